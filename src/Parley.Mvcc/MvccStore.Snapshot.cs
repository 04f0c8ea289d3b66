using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Parley.Mvcc;

public sealed partial class MvccStore
{
    // "PRLYMVC" + format version 4 (2 added each lease's checkpointed remaining TTL, 3 the alarms after auth, 4 the
    // cluster members after the alarms).
    private static ReadOnlySpan<byte> SnapshotMagic => "PRLYMVC\u0004"u8;

    // Version 3 snapshots (no members section) and version 2 (no alarms either) are still read.
    private static ReadOnlySpan<byte> SnapshotMagicWithoutMembers => "PRLYMVC\u0003"u8;

    private static ReadOnlySpan<byte> SnapshotMagicWithoutAlarms => "PRLYMVC\u0002"u8;

    /// <summary>
    /// Writes the whole replicated state: revisions, every retained key version (key order), the
    /// change log, leases (id order), the effectively-once table (application order), users and roles (name order), then a CRC-32C.
    /// Nothing depends on hash order or memory layout, so equal states give identical bytes.
    /// </summary>
    public void WriteSnapshot(IBufferWriter<byte> output) => FreezeSnapshot().WriteTo(output);

    /// <summary>
    /// Captures the state <see cref="WriteSnapshot"/> writes, without writing it: one pass over the keys that copies
    /// each key's newest version and keeps a reference to its older versions (which later writes never change in place:
    /// appends go beyond the captured count, compaction replaces the array), plus the change log and the small
    /// sections serialized as they are now. The store may go on changing on its own thread while another thread writes
    /// the result with <see cref="FrozenSnapshot.WriteTo"/>, which gives exactly the bytes WriteSnapshot would have given
    /// at the capture.
    /// </summary>
    public FrozenSnapshot FreezeSnapshot()
    {
        var records = new FrozenSnapshot.Record[_index.Count];
        int ordinal = 0;
        KeyIndexCursor cursor = _index.First();
        while (cursor.TryNext(out KeyRecord record))
        {
            record.SnapshotOrdinal = ordinal;
            records[ordinal++] = record.Freeze();
        }
        Invariant.Check(ordinal == records.Length, "the key index counts its records");

        var changes = new FrozenSnapshot.Change[_changes.Count];
        for (long position = _changes.Head; position < _changes.Tail; position++)
        {
            ref readonly ChangeEntry entry = ref _changes.At(position);
            changes[position - _changes.Head] = new FrozenSnapshot.Change(entry.Record.SnapshotOrdinal, entry.Revision, entry.IsDelete);
        }

        var rest = new ArrayBufferWriter<byte>(4096);
        var writer = new SnapshotWriter(rest);
        IReadOnlyList<long> leaseIds = LeaseIds();
        writer.WriteUnsigned((ulong)leaseIds.Count);
        foreach (long id in leaseIds)
        {
            writer.WriteSigned(id);
            writer.WriteSigned(_leases[id].TtlSeconds);
            writer.WriteSigned(_leases[id].RemainingTtlSeconds);
        }

        writer.WriteUnsigned((ulong)_recorded.Count);
        foreach (RecordedRequest recorded in _recorded.InOrder)
        {
            writer.WriteString(recorded.RequestId);
            writer.WriteSigned(recorded.LogicalTime);
            OutcomeCodec.Write(writer, recorded.Outcome);
        }
        _auth.WriteSnapshot(writer);
        WriteAlarms(writer);
        WriteMembers(writer);
        writer.Flush();
        return new FrozenSnapshot(_revision, _compactRevision, _leaseIdSequence, records, changes, rest.WrittenSpan.ToArray());
    }

    /// <summary>The header and sections <see cref="FrozenSnapshot.WriteTo"/> writes around the captured keys and changes.</summary>
    internal static void WriteSnapshotHeader(SnapshotWriter writer, long revision, long compactRevision, ulong leaseIdSequence)
    {
        writer.WriteRaw(SnapshotMagic);
        writer.WriteSigned(revision);
        writer.WriteSigned(compactRevision);
        writer.WriteUnsigned(leaseIdSequence);
    }

    /// <summary>What <see cref="WriteSnapshotHeader"/> writes, in bytes.</summary>
    internal static long SnapshotHeaderLength(long revision, long compactRevision, ulong leaseIdSequence) =>
        SnapshotMagic.Length + SnapshotWriter.SizeOfSigned(revision) + SnapshotWriter.SizeOfSigned(compactRevision) + SnapshotWriter.SizeOfUnsigned(leaseIdSequence);

    /// <summary>The snapshot as one array (convenient for tests and small stores).</summary>
    public byte[] Snapshot()
    {
        var output = new ArrayBufferWriter<byte>();
        WriteSnapshot(output);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Rebuilds a store from <see cref="WriteSnapshot"/>'s bytes; a damaged or malformed snapshot is
    /// <see cref="MvccError.SnapshotCorrupt"/>. The options must equal the writer's (replicated config).
    /// </summary>
    public static MvccResult<MvccStore> Restore(ReadOnlySpan<byte> snapshot, MvccOptions? options = null)
    {
        int version = snapshot.Length < SnapshotMagic.Length + 4 ? 0
            : snapshot[..SnapshotMagic.Length].SequenceEqual(SnapshotMagic) ? 4
            : snapshot[..SnapshotMagic.Length].SequenceEqual(SnapshotMagicWithoutMembers) ? 3
            : snapshot[..SnapshotMagic.Length].SequenceEqual(SnapshotMagicWithoutAlarms) ? 2
            : 0;
        if (version == 0
            || Crc32C.Update(0, snapshot[..^4]) != BinaryPrimitives.ReadUInt32LittleEndian(snapshot[^4..]))
        {
            return MvccResult<MvccStore>.Failure(MvccError.SnapshotCorrupt);
        }
        var store = new MvccStore(options);
        try
        {
            var reader = new SnapshotReader(snapshot[SnapshotMagic.Length..^4]);
            store.ReadState(ref reader, version);
            SnapshotReader.Require(reader.AtEnd, "trailing bytes");
        }
        catch (InvalidDataException)
        {
            return MvccResult<MvccStore>.Failure(MvccError.SnapshotCorrupt);
        }
        return MvccResult<MvccStore>.Success(store);
    }

    // Restoring runs once, at start-up, over every key and change: compiled optimized at once rather than starting in
    // the runtime's quick first tier. A member restarting with 733k keys restored them in 1.64-1.92 s before, 1.28-1.36 s
    // after (docs/benchmarks.md).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ReadState(ref SnapshotReader reader, int version)
    {
        _revision = reader.ReadSigned();
        _compactRevision = reader.ReadSigned();
        _leaseIdSequence = reader.ReadUnsigned();
        SnapshotReader.Require(_revision >= 1 && _compactRevision <= _revision, "revisions out of range");

        KeyRecord[] records = ReadRecords(ref reader);
        _index.Rebuild(records);

        int changeCount = reader.ReadCount();
        long previousRevision = 0;
        for (int index = 0; index < changeCount; index++)
        {
            ulong ordinal = reader.ReadUnsigned();
            long revision = (long)reader.ReadUnsigned();
            bool isDelete = reader.ReadBoolean();
            SnapshotReader.Require(ordinal < (ulong)records.Length && revision >= previousRevision && revision > 0 && revision <= _revision, "change out of range");
            KeyRecord record = records[ordinal];
            SnapshotReader.Require(record.IndexOfChange(revision, isDelete) >= 0, "change without its version");
            _changes.Append(new ChangeEntry(record, revision, isDelete));
            previousRevision = revision;
        }

        int leaseCount = reader.ReadCount();
        for (int index = 0; index < leaseCount; index++)
        {
            long id = reader.ReadSigned();
            long ttl = reader.ReadSigned();
            long remaining = reader.ReadSigned();
            SnapshotReader.Require(remaining >= 0 && remaining <= ttl, "checkpointed remaining TTL out of range");
            SnapshotReader.Require(id != 0 && _leases.TryAdd(id, new LeaseState(id, ttl) { RemainingTtlSeconds = remaining }), "lease id repeated or zero");
            _storedBytes += LeaseOverheadBytes;
        }
        foreach (KeyRecord record in records)
        {
            if (record.IsLive && record.Latest.Lease != 0)
            {
                SnapshotReader.Require(_leases.ContainsKey(record.Latest.Lease), "key attached to a missing lease");
                AttachLease(record.Latest.Lease, record);
            }
        }

        int recordedCount = reader.ReadCount();
        for (int index = 0; index < recordedCount; index++)
        {
            string requestId = reader.ReadString();
            long logicalTime = reader.ReadSigned();
            WriteOutcome outcome = OutcomeCodec.Read(ref reader);
            SnapshotReader.Require(requestId.Length > 0 && _recorded.TryGet(requestId, out _) == false, "recorded request id empty or repeated");
            _recorded.Add(new RecordedRequest(requestId, logicalTime, outcome));
        }
        _auth.ReadSnapshot(ref reader);
        if (version >= 3)
        {
            ReadAlarms(ref reader);
        }
        if (version >= 4)
        {
            ReadMembers(ref reader);
        }
    }

    // Keys and values are ordinary arrays here, not KeyBytes.LongLived copies as a put's value is: the pinned-object heap
    // takes every allocation through the runtime's slow path, which was 42% of restoring 830k keys with their history
    // (1.83-2.37 s); on the ordinary heap, promoted once by the collections the restore triggers, 1.57-1.68 s.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private KeyRecord[] ReadRecords(ref SnapshotReader reader)
    {
        var records = new KeyRecord[reader.ReadCount()];
        for (int index = 0; index < records.Length; index++)
        {
            byte[] key = reader.ReadBytes();
            SnapshotReader.Require(key.Length > 0, "empty key");
            SnapshotReader.Require(index == 0 || KeyBytes.Compare(records[index - 1].Key, key) < 0, "keys out of order");
            int versionCount = reader.ReadCount();
            SnapshotReader.Require(versionCount > 0, "key without versions");
            var record = new KeyRecord(key, versionCount);
            long previousModRevision = long.MinValue;
            for (int versionIndex = 0; versionIndex < versionCount; versionIndex++)
            {
                long modRevision = reader.ReadSigned();
                long createRevision = reader.ReadSigned();
                long version = reader.ReadSigned();
                long lease = reader.ReadSigned();
                bool tombstone = reader.ReadBoolean();
                byte[]? value = tombstone ? null : reader.ReadBytes();
                SnapshotReader.Require(modRevision >= previousModRevision && modRevision <= _revision, "version revisions out of order");
                previousModRevision = modRevision;
                record.Append(new KeyVersion(modRevision, createRevision, version, lease, value));
                _storedBytes += KeyRecord.StoredBytes(key.Length, value, VersionOverheadBytes);
            }
            if (record.IsLive)
            {
                _liveKeys++;
            }
            records[index] = record;
        }
        return records;
    }
}
