namespace Parley.Storage;

/// <summary>
/// All segments of a WAL directory, decoded, with one verdict: clean, a torn tail (truncate and go on), refused
/// (not ours), or corrupt (stop). The torn-tail rule: a damaged record is a torn write only if it looks torn
/// (some sector of it reads as zeros) and every valid record after it belongs to the same sync group, i.e. to the
/// same unsynced write. A valid record of a later group proves the damaged one had been synced: that is rot.
/// </summary>
internal sealed class WalScan
{
    private WalScan(string directory, List<WalSegmentScan> segments)
    {
        Directory = directory;
        Segments = segments;
    }

    public string Directory { get; }

    public List<WalSegmentScan> Segments { get; }

    /// <summary>Index into <see cref="Segments"/> of the torn segment, or -1.</summary>
    public int TornSegmentIndex { get; private set; } = -1;

    public WalRepair? TornTail { get; private set; }

    public string? Refusal { get; private set; }

    public StorageCorruptionException? Corruption { get; private set; }

    public static WalScan Read(IFileSystem fileSystem, string directory, StorageIdentity? identity, bool verifyChecksums = true)
    {
        var segments = new List<WalSegmentScan>();
        foreach (var name in fileSystem.ListFiles(directory))
        {
            if (StorageFormat.TryParseSegmentFileName(name, out var sequence))
            {
                segments.Add(WalSegmentScan.Read(fileSystem, Path.Combine(directory, name), sequence, identity, verifyChecksums));
            }
        }
        var scan = new WalScan(directory, segments);
        scan.Judge();
        return scan;
    }

    private void Judge()
    {
        for (var i = 0; i < Segments.Count; i++)
        {
            var segment = Segments[i];
            if (segment.HeaderProblem is { } problem)
            {
                if (segment.HeaderRefused)
                {
                    Refusal = $"{segment.Path}: {problem}";
                }
                else
                {
                    Corruption = new StorageCorruptionException(segment.Path, 0, problem);
                }
                return;
            }
            if (i > 0 && segment.Sequence != Segments[i - 1].Sequence + 1)
            {
                Corruption = new StorageCorruptionException(segment.Path, 0,
                    $"segment {StorageFormat.SegmentFileName(Segments[i - 1].Sequence + 1)} is missing before it");
                return;
            }
        }
        for (var i = 0; i < Segments.Count; i++)
        {
            if (Segments[i].Damage is { } damage)
            {
                JudgeDamage(i, damage);
                return;
            }
        }
    }

    private void JudgeDamage(int segmentIndex, WalDamage damage)
    {
        var segment = Segments[segmentIndex];
        var previous = LastRecordBefore(segmentIndex);
        var after = new List<(WalSegmentScan Segment, WalRecord Record)>();
        foreach (var record in segment.ValidFramesFrom(damage.Offset + WalFrame.AlignmentBytes))
        {
            after.Add((segment, record));
        }
        for (var j = segmentIndex + 1; j < Segments.Count; j++)
        {
            foreach (var record in Segments[j].Records)
            {
                after.Add((Segments[j], record));
            }
        }
        if (!damage.AfterEndOfData && after.Count > 0)
        {
            // Sectors are written whole, so a torn write leaves a length field intact or zero, never wrong.
            var declaredPayloadBytes = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(segment.Data.AsSpan((int)damage.Offset));
            var declaredEnd = damage.Offset + WalFrame.FrameBytes((int)Math.Min(declaredPayloadBytes, int.MaxValue - 64));
            var (firstSegment, first) = after[0];
            if (declaredPayloadBytes != 0 && firstSegment == segment && first.Offset < declaredEnd)
            {
                Corruption = new StorageCorruptionException(segment.Path, damage.Offset,
                    $"{damage.Problem}; its length field overlaps the valid record at offset {first.Offset}, which a torn write cannot do");
                return;
            }
        }
        if (after.Count > 0)
        {
            // Which group could the damaged write belong to? The one of the record before it, or the next one if
            // that record closed its group.
            uint? damagedGroup = previous is { } p ? (p.Type == WalRecordType.SyncMark ? p.Group + 1 : p.Group) : null;
            foreach (var (laterSegment, record) in after)
            {
                if (damagedGroup is null || laterSegment != segment || record.Group != damagedGroup)
                {
                    Corruption = new StorageCorruptionException(segment.Path, damage.Offset,
                        $"{damage.Problem}, yet a valid record written by a later sync follows it ({laterSegment.Path} offset {record.Offset}); " +
                        "a crash cannot do that");
                    return;
                }
            }
        }
        if (!damage.LooksTorn)
        {
            Corruption = new StorageCorruptionException(segment.Path, damage.Offset,
                $"{damage.Problem} in the last record, with no sector of it missing: bit rot or tampering, not a torn write");
            return;
        }
        TornSegmentIndex = segmentIndex;
        TornTail = new WalRepair(segment.Path, damage.Offset, damage.Problem, after.Count);
    }

    private WalRecord? LastRecordBefore(int segmentIndex)
    {
        for (var i = segmentIndex; i >= 0; i--)
        {
            if (Segments[i].Records.Count > 0)
            {
                return Segments[i].Records[^1];
            }
        }
        return null;
    }

    /// <summary>Throws the verdict if it forbids start-up.</summary>
    public void ThrowIfUnusable()
    {
        if (Refusal is { } refusal)
        {
            throw new StorageRefusedException(refusal);
        }
        if (Corruption is { } corruption)
        {
            throw corruption;
        }
    }
}
