using System.Buffers;
using System.Runtime.CompilerServices;

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

    /// <summary>
    /// The number of bytes <see cref="WriteTo"/> writes, added up once from the fields' sizes (<see cref="CountLength"/>).
    /// It was counted by running <see cref="Write"/> into a writer that stored nothing: 40% of a snapshot's CPU.
    /// </summary>
    public long Length
    {
        get
        {
            if (_length < 0)
            {
                _length = CountLength();
            }
            return _length;
        }
    }

    public void WriteTo(IBufferWriter<byte> output) => Write(new SnapshotWriter(output));

    // CountLength and Write walk the same fields: a change to one is a change to the other. A snapshot file whose data
    // differs from the length announced is refused as it is written (SnapshotFileWriter), and the tests compare the two.
    private long CountLength()
    {
        long length = MvccStore.SnapshotHeaderLength(Revision, CompactRevision, LeaseIdSequence);
        length += SnapshotWriter.SizeOfUnsigned((ulong)_records.Length);
        foreach (ref readonly Record record in _records.AsSpan())
        {
            length += SnapshotWriter.SizeOfBytes(record.Key.Length) + SnapshotWriter.SizeOfUnsigned((ulong)record.Count);
            for (int index = 0; index < record.Count; index++)
            {
                ref readonly KeyVersion version = ref index == record.Count - 1 ? ref record.Latest : ref record.Older[index];
                length += SnapshotWriter.SizeOfSigned(version.ModRevision) + SnapshotWriter.SizeOfSigned(version.CreateRevision) +
                          SnapshotWriter.SizeOfSigned(version.Version) + SnapshotWriter.SizeOfSigned(version.Lease) + 1;
                if (version.Value is { } value)
                {
                    length += SnapshotWriter.SizeOfBytes(value.Length);
                }
            }
        }
        length += SnapshotWriter.SizeOfUnsigned((ulong)_changes.Length);
        foreach (ref readonly Change change in _changes.AsSpan())
        {
            length += SnapshotWriter.SizeOfUnsigned((ulong)change.Ordinal) + SnapshotWriter.SizeOfUnsigned((ulong)change.Revision) + 1;
        }
        return length + _rest.Length + SnapshotWriter.ChecksumBytes;
    }

    // Runs once per snapshot (a few a minute under load) over every key, so it would stay in the precompiled code the
    // launcher publishes, where the runtime library's small methods are not inlined (the array-to-span conversions alone
    // were 2.7% of the members' CPU under put load): compiled optimized at its first call instead. 300k keys with history
    // (250 MB): 151-172 ms against 169-198 ms (docs/benchmarks.md).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
