namespace Parley.Server.Backup;

/// <summary>A snapshot file or a restore target refused, with a sentence the operator can act on.</summary>
public sealed class SnapshotFileException(string message) : Exception(message);
