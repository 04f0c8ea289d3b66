using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using Parley.Raft;

namespace Parley.Storage;

/// <summary>
/// Streams a snapshot file: the header, then whatever the caller writes as data (through <see cref="IBufferWriter{T}"/>,
/// 1 MiB at a time at increasing offsets), then the CRC-32C of everything before it. Memory stays one buffer,
/// whatever the snapshot's size; the caller must write exactly the data length announced in the header.
/// </summary>
/// <remarks>
/// Each buffer is written out to the disk as it is written (<see cref="IStorageFile.WriteBack"/>), and the writer waits
/// once it is more than <see cref="WriteBackLagBytes"/> ahead of the disk (and on a busy disk pauses as long as it
/// waited). Left to the page cache, a 100 MB snapshot reached the disk all at once in its final sync, and every WAL
/// fdatasync on that disk waited behind it: 0.45-0.9 s with three members snapshotting at about the same moment, a stall
/// of every write in the cluster and close to the election timeout.
/// </remarks>
internal sealed class SnapshotFileWriter : IBufferWriter<byte>
{
    private const int BufferBytes = 1 << 20;

    /// <summary>How far the file's written bytes may run ahead of those written out to the disk.</summary>
    internal const long WriteBackLagBytes = 8 << 20;

    /// <summary>
    /// A wait for the disk longer than this means it is busy (with other files' syncs, the WAL's among them): the writer
    /// then pauses as long as it waited, leaving the disk to them. A simulated file never makes it wait this long.
    /// </summary>
    private static readonly TimeSpan BusyDiskWaitMin = TimeSpan.FromMilliseconds(1);

    private readonly IStorageFile _file;
    private readonly long _dataEnd;
    private readonly byte[] _buffer = new byte[BufferBytes];
    private int _buffered;
    private long _flushed;
    private long _writtenOut; // bytes before this offset are on the disk (not yet durable: the final sync does that)
    private uint _crc = Crc32C.Start;

    public SnapshotFileWriter(IStorageFile file, byte[] header, long dataLength)
    {
        _file = file;
        _dataEnd = header.Length + dataLength;
        Append(header);
    }

    public void Advance(int count)
    {
        if (count < 0 || _buffered + count > _buffer.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "advanced past the span handed out");
        }
        _buffered += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0) => _buffer.AsMemory(Reserve(sizeHint));

    public Span<byte> GetSpan(int sizeHint = 0) => _buffer.AsSpan(Reserve(sizeHint));

    /// <summary>Writes what is buffered and the checksum; throws if the data written differs from the length announced.</summary>
    public void Complete()
    {
        Flush();
        Invariant.Check(_flushed == _dataEnd, $"snapshot data of {_dataEnd} bytes announced, {_flushed} written");
        Span<byte> trailer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(trailer, Crc32C.Finish(_crc));
        _file.Write(_flushed, trailer);
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            var span = GetSpan();
            var take = Math.Min(span.Length, bytes.Length);
            bytes[..take].CopyTo(span);
            Advance(take);
            bytes = bytes[take..];
        }
    }

    private int Reserve(int sizeHint)
    {
        if (sizeHint > BufferBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(sizeHint), sizeHint, $"at most {BufferBytes} bytes at a time");
        }
        if (_buffered == _buffer.Length || _buffer.Length - _buffered < Math.Max(sizeHint, 1))
        {
            Flush();
        }
        return _buffered;
    }

    private void Flush()
    {
        if (_buffered == 0)
        {
            return;
        }
        Invariant.Check(_flushed + _buffered <= _dataEnd, $"snapshot data longer than the {_dataEnd} bytes announced");
        var chunk = _buffer.AsSpan(0, _buffered);
        _crc = Crc32C.Update(_crc, chunk);
        _file.Write(_flushed, chunk);
        _file.WriteBack(_flushed, chunk.Length, wait: false);
        _flushed += _buffered;
        _buffered = 0;
        if (_flushed - _writtenOut > WriteBackLagBytes)
        {
            var through = _flushed - WriteBackLagBytes;
            var waitStarted = Stopwatch.GetTimestamp();
            _file.WriteBack(_writtenOut, through - _writtenOut, wait: true);
            _writtenOut = through;
            var waited = Stopwatch.GetElapsedTime(waitStarted);
            if (waited > BusyDiskWaitMin)
            {
                Thread.Sleep(waited);
            }
        }
    }
}
