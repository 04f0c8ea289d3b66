namespace Parley.Node;

public sealed partial class ClusterNode
{
    /// <summary>
    /// Captures the keyspace as of the last applied entry, on the loop thread (the store is not shared, so this is the
    /// one consistent point): one pass over the keys (<see cref="MvccStore.FreezeSnapshot"/>). Serializing every
    /// version, framing, hashing and sending happen on the caller's thread afterwards (<see cref="KeyspaceCapture.Write"/>),
    /// so a large keyspace does not stall the loop.
    /// </summary>
    public KeyspaceCapture CaptureKeyspace()
    {
        var term = _log.TryGetTerm(_applied, out var appliedTerm) ? appliedTerm : _raft.Term;
        return new KeyspaceCapture(_store.FreezeSnapshot(), _store.Revision, _store.CompactRevision, _store.KeyCount, _applied, term);
    }

    /// <summary>Captures and serializes at once, on the loop thread (tests and small stores).</summary>
    public KeyspaceSnapshot TakeKeyspaceSnapshot() => CaptureKeyspace().Write();
}
