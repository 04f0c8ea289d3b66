namespace Parley.Mvcc;

/// <summary>
/// One change in the revision-ordered change log: which key changed at which revision and whether
/// it was a delete. The kind rides in the sign of the stored revision so that an entry stays at 16
/// bytes (the log holds one entry per change since the last compaction).
/// </summary>
internal readonly struct ChangeEntry
{
    private readonly long _revisionWithKind;

    public ChangeEntry(KeyRecord record, long revision, bool isDelete)
    {
        Invariant.Check(revision > 0, "change revisions are positive");
        Record = record;
        _revisionWithKind = isDelete ? -revision : revision;
    }

    public KeyRecord Record { get; }

    public long Revision => Math.Abs(_revisionWithKind);

    public bool IsDelete => _revisionWithKind < 0;
}
