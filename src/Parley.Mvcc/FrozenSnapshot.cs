using System.Buffers;

namespace Parley.Mvcc;

/// <summary>
/// A keyspace snapshot captured by <see cref="MvccStore.FreezeSnapshot"/> and not yet written. Capturing is one pass
/// over the keys on the store's thread; writing (the bulk of the work: every retained version's bytes) may happen on
/// any thread, once, or several times, while the store goes on, and always gives the bytes
/// <see cref="MvccStore.WriteSnapshot"/> would have given at the capture.
/// </summary>
public sealed class FrozenSnapshot
{
    private readonly Record[] _records;
    private readonly Change[] _changes;
    private readonly byte[] _rest;
    private long _length = -1;

    internal FrozenSnapshot(long revision, long compactRevision, ulong leaseIdSequence, Record[] records, Change[] changes, byte[] rest)
    {
        Revision = revision;
        CompactRevision = compactRevision;
        LeaseIdSequence = leaseIdSequence;
        _records = records;
        _changes = changes;
        _rest = rest;
    }

    /// <summary>The store's revision at the capture.</summary>
    public long Revision { get; }

    public long CompactRevision { get; }

    private ulong LeaseIdSequence { get; }

    /// <summary>Key records (live keys and keys with only history left) at the capture.</summary>
    public int RecordCount => _records.Length;

    /// <summary>The number of bytes <see cref="WriteTo"/> writes (counted once, by a pass that stores nothing).</summary>
    public long Length
    {
        get
        {
            if (_length < 0)
            {
                var counter = SnapshotWriter.Counting();
                Write(counter);
                _length = counter.Length;
            }
            return _length;
        }
    }

    public void WriteTo(IBufferWriter<byte> output) => Write(new SnapshotWriter(output));

    private void Write(SnapshotWriter writer)
    {
        MvccStore.WriteSnapshotHeader(writer, Revision, CompactRevision, LeaseIdSequence);
        writer.WriteUnsigned((ulong)_records.Length);
        foreach (ref readonly Record record in _records.AsSpan())
        {
            writer.WriteBytes(record.Key);
            writer.WriteUnsigned((ulong)record.Count);
            for (int index = 0; index < record.Count; index++)
            {
                ref readonly KeyVersion version = ref index == record.Count - 1 ? ref record.Latest : ref record.Older[index];
                writer.WriteSigned(version.ModRevision);
                writer.WriteSigned(version.CreateRevision);
                writer.WriteSigned(version.Version);
                writer.WriteSigned(version.Lease);
                writer.WriteBoolean(version.IsTombstone);
                if (version.Value is { } value)
                {
                    writer.WriteBytes(value);
                }
            }
        }
        writer.WriteUnsigned((ulong)_changes.Length);
        foreach (ref readonly Change change in _changes.AsSpan())
        {
            writer.WriteUnsigned((ulong)change.Ordinal);
            writer.WriteUnsigned((ulong)change.Revision);
            writer.WriteBoolean(change.IsDelete);
        }
        writer.WriteRaw(_rest);
        writer.WriteChecksum();
    }

    /// <summary>The snapshot as one array.</summary>
    public byte[] ToArray()
    {
        var output = new ArrayBufferWriter<byte>(4096);
        WriteTo(output);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Counts what is written into a scratch buffer it reuses.</summary>
    internal readonly struct Record(byte[] key, KeyVersion[] older, KeyVersion latest, int count)
    {
        public readonly byte[] Key = key;
        public readonly KeyVersion[] Older = older;
        public readonly KeyVersion Latest = latest;
        public readonly int Count = count;
    }

    /// <summary>A change log entry with its key as the ordinal of its record in the snapshot.</summary>
    internal readonly record struct Change(int Ordinal, long Revision, bool IsDelete);
}
