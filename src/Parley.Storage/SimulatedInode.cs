namespace Parley.Storage;

/// <summary>One simulated file's contents as the page cache sees them and as the platter holds them.</summary>
internal sealed class SimulatedInode
{
    private byte[] _current = [];
    private byte[] _durable = [];

    public long CurrentLength { get; private set; }

    public long DurableLength { get; private set; }

    /// <summary>Writes since the last sync, oldest first: what a crash may lose.</summary>
    public List<(long Offset, byte[] Data)> UnsyncedWrites { get; } = [];

    public bool LengthUnsynced { get; private set; }

    public void SetLength(long length)
    {
        CurrentLength = length;
        LengthUnsynced = true;
    }

    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        Ensure(ref _current, offset + data.Length);
        data.CopyTo(_current.AsSpan((int)offset));
        CurrentLength = Math.Max(CurrentLength, offset + data.Length);
        UnsyncedWrites.Add((offset, data.ToArray()));
        LengthUnsynced = true;
    }

    public int Read(long offset, Span<byte> buffer)
    {
        if (offset >= CurrentLength)
        {
            return 0;
        }
        var count = (int)Math.Min(buffer.Length, CurrentLength - offset);
        var target = buffer[..count];
        target.Clear();
        var stored = (int)Math.Max(0, Math.Min(count, _current.Length - offset));
        if (stored > 0)
        {
            _current.AsSpan((int)offset, stored).CopyTo(target);
        }
        return count;
    }

    public void Sync()
    {
        foreach (var (offset, data) in UnsyncedWrites)
        {
            ApplyDurable(offset, data);
        }
        UnsyncedWrites.Clear();
        DurableLength = CurrentLength;
        LengthUnsynced = false;
    }

    /// <summary>A failed fsync: the kernel marks the dirty pages clean without writing them (they stay readable until a crash).</summary>
    public void DropUnsynced()
    {
        UnsyncedWrites.Clear();
        LengthUnsynced = false;
    }

    /// <summary>Crash: only durable bytes remain, plus the sectors of the last unsynced write that <paramref name="keepSector"/> keeps.</summary>
    public void Crash(Func<int, int, bool>? keepSector, int sectorSizeBytes)
    {
        if (keepSector is not null && UnsyncedWrites.Count > 0)
        {
            var (offset, data) = UnsyncedWrites[^1];
            var firstSector = offset / sectorSizeBytes;
            var lastSector = (offset + data.Length - 1) / sectorSizeBytes;
            var sectorCount = (int)(lastSector - firstSector + 1);
            for (var sector = 0; sector < sectorCount; sector++)
            {
                if (!keepSector(sector, sectorCount))
                {
                    continue;
                }
                var start = Math.Max(offset, (firstSector + sector) * sectorSizeBytes);
                var end = Math.Min(offset + data.Length, (firstSector + sector + 1) * sectorSizeBytes);
                ApplyDurable(start, data.AsSpan((int)(start - offset), (int)(end - start)));
                DurableLength = Math.Max(DurableLength, end);
            }
        }
        UnsyncedWrites.Clear();
        LengthUnsynced = false;
        CurrentLength = DurableLength;
        _current = (byte[])_durable.Clone();
    }

    public void FlipBit(long offset, int bit)
    {
        Ensure(ref _current, offset + 1);
        Ensure(ref _durable, offset + 1);
        _current[offset] ^= (byte)(1 << bit);
        _durable[offset] ^= (byte)(1 << bit);
    }

    private void ApplyDurable(long offset, ReadOnlySpan<byte> data)
    {
        Ensure(ref _durable, offset + data.Length);
        data.CopyTo(_durable.AsSpan((int)offset));
    }

    private static void Ensure(ref byte[] buffer, long length)
    {
        if (buffer.Length >= length)
        {
            return;
        }
        var grown = new byte[Math.Max(length, Math.Min(buffer.Length * 2L, int.MaxValue))];
        buffer.CopyTo(grown, 0);
        buffer = grown;
    }
}
