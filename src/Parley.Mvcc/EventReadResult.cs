namespace Parley.Mvcc;

/// <summary>
/// Outcome of <see cref="MvccStore.ReadEvents"/>: an error (compacted start) or the revision to
/// continue from. <see cref="CompactRevision"/> is what a cancelled watcher is told.
/// </summary>
public readonly record struct EventReadResult(MvccError Error, long NextRevision, long CompactRevision);
