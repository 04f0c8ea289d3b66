using System.Buffers.Binary;

namespace Parley.Mvcc;

public sealed partial class MvccStore
{
    /// <summary>
    /// KV.Compact: versions superseded at or before the revision become unreadable and are dropped,
    /// the newest version of every live key is kept, tombstones at or before it go. Errors as etcd:
    /// at or below the current compact revision → compacted; above the current revision → future.
    /// </summary>
    public MvccResult<CompactionResponse> Compact(CompactionRequest request)
    {
        long revision = request.Revision;
        if (revision <= _compactRevision)
        {
            return MvccResult<CompactionResponse>.Failure(MvccError.Compacted);
        }
        if (revision > _revision)
        {
            return MvccResult<CompactionResponse>.Failure(MvccError.FutureRevision);
        }
        _compactRevision = revision;
        int emptied = 0;
        KeyIndexCursor cursor = _index.First();
        while (cursor.TryNext(out KeyRecord record))
        {
            _storedBytes -= record.CompactTo(revision, VersionOverheadBytes);
            if (record.VersionCount == 0)
            {
                emptied++;
            }
        }
        if (emptied > 0)
        {
            var survivors = new List<KeyRecord>(_index.Count - emptied);
            cursor = _index.First();
            while (cursor.TryNext(out KeyRecord record))
            {
                if (record.VersionCount > 0)
                {
                    survivors.Add(record);
                }
            }
            _index.Rebuild(survivors);
        }
        _changes.Compact(revision);
        return MvccResult<CompactionResponse>.Success(new CompactionResponse { Header = new ResponseHeader(_revision) });
    }

    /// <summary>
    /// Maintenance.HashKV: CRC-32C of every retained version at or below the revision (0 = current),
    /// in key order then version order. Equal on members with equal state; not etcd's byte-exact
    /// hash (that only matters when mixing with real etcd members, which is not a goal).
    /// </summary>
    public MvccResult<HashKVResponse> HashKV(long revision)
    {
        if (revision > 0 && revision <= _compactRevision)
        {
            return MvccResult<HashKVResponse>.Failure(MvccError.Compacted);
        }
        if (revision > 0 && revision > _revision)
        {
            return MvccResult<HashKVResponse>.Failure(MvccError.FutureRevision);
        }
        if (revision == 0)
        {
            revision = _revision;
        }
        uint hash = Crc32C.Update(0, "key"u8);
        Span<byte> numbers = stackalloc byte[41];
        KeyIndexCursor cursor = _index.First();
        while (cursor.TryNext(out KeyRecord record))
        {
            for (int index = 0; index < record.VersionCount; index++)
            {
                ref readonly KeyVersion version = ref record.VersionAt(index);
                if (version.ModRevision > revision)
                {
                    break;
                }
                BinaryPrimitives.WriteInt32LittleEndian(numbers, record.Key.Length);
                hash = Crc32C.Update(hash, numbers[..4]);
                hash = Crc32C.Update(hash, record.Key);
                BinaryPrimitives.WriteInt64LittleEndian(numbers, version.ModRevision);
                BinaryPrimitives.WriteInt64LittleEndian(numbers[8..], version.CreateRevision);
                BinaryPrimitives.WriteInt64LittleEndian(numbers[16..], version.Version);
                BinaryPrimitives.WriteInt64LittleEndian(numbers[24..], version.Lease);
                BinaryPrimitives.WriteInt32LittleEndian(numbers[32..], version.Value?.Length ?? -1);
                numbers[36] = version.IsTombstone ? (byte)1 : (byte)0;
                hash = Crc32C.Update(hash, numbers[..37]);
                if (version.Value is { } value)
                {
                    hash = Crc32C.Update(hash, value);
                }
            }
        }
        return MvccResult<HashKVResponse>.Success(new HashKVResponse
        {
            Header = new ResponseHeader(_revision),
            Hash = hash,
            CompactRevision = _compactRevision,
        });
    }
}
