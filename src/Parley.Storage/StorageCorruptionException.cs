namespace Parley.Storage;

/// <summary>
/// Stored data failed its checks somewhere a crash cannot explain. Start-up stops: serving from a damaged log could
/// lose acknowledged writes or break Raft's promises. The message names the file, the offset and what to do.
/// </summary>
public sealed class StorageCorruptionException : Exception
{
    public StorageCorruptionException()
    {
    }

    public StorageCorruptionException(string message) : base(message)
    {
    }

    public StorageCorruptionException(string message, Exception inner) : base(message, inner)
    {
    }

    public StorageCorruptionException(string file, long offset, string problem)
        : base($"corrupt storage: {file} at offset {offset}: {problem}. {OperatorAdvice}")
    {
        File = file;
        Offset = offset;
        Problem = problem;
    }

    public const string OperatorAdvice =
        "This is not a torn write from a crash, so the member refuses to start rather than skip data. " +
        "Keep the data directory for diagnosis (./parley wal inspect --data-dir <dir>), then either restore it from a backup, " +
        "or remove this member from the cluster (member remove), wipe its data directory and add it back so it re-syncs from its peers.";

    public string? File { get; }

    public long Offset { get; }

    public string? Problem { get; }
}
