namespace Parley.Mvcc;

/// <summary>
/// The MVCC keyspace with etcd 3.4's semantics: one revision counter (1 on an empty store), one new
/// revision per write request that changes something, per-key create/mod revision and version,
/// tombstones and generations, compaction, leases as replicated state, a change log for watch
/// replay, deterministic snapshots and effectively-once request ids.
/// Deterministic and single-threaded by contract: the node applies committed entries in log order
/// on one thread and serves reads from the same thread.
/// </summary>
public sealed partial class MvccStore
{
    /// <summary>Per-version overhead counted in <see cref="EstimatedStoredBytes"/> (revision key and encoding, as etcd's backend stores them).</summary>
    public const long VersionOverheadBytes = 48;

    /// <summary>Per-lease overhead counted in <see cref="EstimatedStoredBytes"/>.</summary>
    public const long LeaseOverheadBytes = 32;

    private readonly MvccOptions _options;
    private readonly KeyIndex _index = new();
    private readonly ChangeLog _changes = new();
    private readonly Dictionary<long, LeaseState> _leases = [];
    private readonly RecordedRequestTable _recorded;
    private long _revision = 1;
    private long _compactRevision = -1;
    private ulong _leaseIdSequence;
    private long _storedBytes;
    private long _liveKeys;

    // Changes made by the write request being applied; they all get revision _revision + 1.
    private int _pendingChanges;

    public MvccStore(MvccOptions? options = null)
    {
        _options = options ?? MvccOptions.Default;
        Invariant.Check(_options.TxnOperationsMax > 0, "txn operations bound is positive");
        Invariant.Check(_options.RecordedRequestsMax > 0, "recorded requests bound is positive");
        _recorded = new RecordedRequestTable(_options.RecordedRequestsMax, _options.RecordedRequestRetention);
    }

    public MvccOptions Options => _options;

    /// <summary>The store's current revision (1 on an empty store).</summary>
    public long Revision => _revision;

    /// <summary>The last compaction's revision, or -1 when nothing was ever compacted.</summary>
    public long CompactRevision => _compactRevision;

    /// <summary>Keys that exist at the current revision.</summary>
    public long KeyCount => _liveKeys;

    /// <summary>
    /// Estimate of what the keyspace would occupy in etcd's backend (every retained version's key and
    /// value plus a fixed overhead, and leases), for the quota check: it grows with every write and
    /// shrinks on compaction, like etcd's in-use size.
    /// </summary>
    public long EstimatedStoredBytes => _storedBytes;

    /// <summary>Number of request ids in the effectively-once table.</summary>
    public int RecordedRequestCount => _recorded.Count;

    // The revision reads see inside the write being applied: its own changes once it made any.
    private long ReadRevision => _pendingChanges > 0 ? _revision + 1 : _revision;

    private long WriteRevision => _revision + 1;

    private void FinishWrite()
    {
        if (_pendingChanges > 0)
        {
            _revision++;
            _pendingChanges = 0;
        }
    }

    private void WriteValue(KeyRecord record, byte[] value, long lease)
    {
        long revision = WriteRevision;
        bool live = record.IsLive;
        long createRevision = revision;
        long version = 1;
        long oldLease = 0;
        if (live)
        {
            ref readonly KeyVersion latest = ref record.Latest;
            createRevision = latest.CreateRevision;
            version = latest.Version + 1;
            oldLease = latest.Lease;
        }
        if (oldLease != 0)
        {
            DetachLease(oldLease, record);
        }
        if (lease != 0)
        {
            AttachLease(lease, record);
        }
        record.Append(new KeyVersion(revision, createRevision, version, lease, value));
        _changes.Append(new ChangeEntry(record, revision, isDelete: false));
        _pendingChanges++;
        _storedBytes += KeyRecord.StoredBytes(record.Key.Length, value, VersionOverheadBytes);
        if (!live)
        {
            _liveKeys++;
        }
    }

    private void WriteTombstone(KeyRecord record)
    {
        Invariant.Check(record.IsLive, "only a live key is deleted");
        long lease = record.Latest.Lease;
        if (lease != 0)
        {
            DetachLease(lease, record);
        }
        long revision = WriteRevision;
        record.Append(KeyVersion.Tombstone(revision));
        _changes.Append(new ChangeEntry(record, revision, isDelete: true));
        _pendingChanges++;
        _storedBytes += KeyRecord.StoredBytes(record.Key.Length, null, VersionOverheadBytes);
        _liveKeys--;
    }

    private void AttachLease(long leaseId, KeyRecord record)
    {
        bool found = _leases.TryGetValue(leaseId, out LeaseState? lease);
        Invariant.Check(found, "a key is attached only to an existing lease (checked before applying)");
        lease!.Keys.Add(record);
    }

    private void DetachLease(long leaseId, KeyRecord record)
    {
        bool found = _leases.TryGetValue(leaseId, out LeaseState? lease);
        Invariant.Check(found, "a live key's lease exists (revoke deletes its keys)");
        lease!.Keys.Remove(record);
    }
}
