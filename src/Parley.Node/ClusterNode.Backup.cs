using System.Buffers;

namespace Parley.Node;

public sealed partial class ClusterNode
{
    /// <summary>
    /// Serializes the keyspace as of the last applied entry, on the loop thread (the store is not shared, so this is
    /// the one consistent point): one pass over the store into memory, the same work as the snapshot the node takes
    /// every <see cref="NodeOptions.SnapshotCountEntries"/> entries but without the disk write. Framing, hashing and
    /// sending happen on the caller's thread afterwards.
    /// </summary>
    public KeyspaceSnapshot TakeKeyspaceSnapshot()
    {
        var output = new ArrayBufferWriter<byte>(64 * 1024);
        _store.WriteSnapshot(output);
        var term = _log.TryGetTerm(_applied, out var appliedTerm) ? appliedTerm : _raft.Term;
        return new KeyspaceSnapshot(output.WrittenMemory, _store.Revision, _store.CompactRevision, _store.KeyCount, _applied, term);
    }
}
