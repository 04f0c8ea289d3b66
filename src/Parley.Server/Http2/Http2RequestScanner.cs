using System.Buffers;
using System.Buffers.Binary;

namespace Parley.Server.Http2;

/// <summary>
/// Reads the client-to-server byte stream of an HTTP/2 connection frame by frame (RFC 9113 §4.1: 9-byte header,
/// then the payload) and decides which bytes the server may see as they are and which header block must be
/// replaced (<see cref="HpackAuthorityEditor"/>). Offsets are absolute positions in the stream, counted from the
/// connection preface.
/// </summary>
/// <remarks>
/// Frames other than HEADERS pass as soon as their header is seen, payload included, without waiting for the rest
/// of the payload. A header block is held until all its frames are in. Anything this scanner cannot follow (a
/// malformed block, a CONTINUATION out of place, a client PUSH_PROMISE, a block over
/// <see cref="HeaderBlockBytesMax"/>, a bad preface) switches it off for the rest of the connection: from then on
/// every byte passes unchanged, and the server rejects what is wrong on its own terms. Nothing is ever worse than
/// without the scanner.
/// </remarks>
internal sealed class Http2RequestScanner(int headerTableSize)
{
    public const int FrameHeaderBytes = 9;

    /// <summary>SETTINGS_MAX_FRAME_SIZE's initial value, the smallest any server may advertise: rewritten frames stay within it.</summary>
    public const int FramePayloadBytesMax = 16_384;

    /// <summary>A longer header block (all its frames) is passed unchanged; Kestrel's own header limits are far lower.</summary>
    public const int HeaderBlockBytesMax = 256 * 1024;

    private const byte FrameTypeHeaders = 0x1;
    private const byte FrameTypePushPromise = 0x5;
    private const byte FrameTypeContinuation = 0x9;
    private const byte FlagEndStream = 0x1;
    private const byte FlagEndHeaders = 0x4;
    private const byte FlagPadded = 0x8;
    private const byte FlagPriority = 0x20;
    private const int PriorityBytes = 5;

    private static ReadOnlySpan<byte> Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    private readonly HpackAuthorityEditor _editor = new(headerTableSize);
    private readonly List<AuthorityEdit> _edits = [];
    private long _scanOffset;

    /// <summary>Set once the scanner has given up; every later byte passes unchanged.</summary>
    public bool IsOff { get; private set; }

    /// <summary>A header block the server must see replaced; scanning waits until <see cref="CompletePending"/>.</summary>
    public HeaderBlockRewrite? Pending { get; private set; }

    /// <summary>Bytes before this absolute offset pass unchanged (it may lie beyond the bytes received so far).</summary>
    public long PassThroughEnd => IsOff ? long.MaxValue : _scanOffset;

    /// <summary>How many header blocks were replaced so far on this connection.</summary>
    public int RewrittenBlocks { get; private set; }

    /// <summary>
    /// Classifies the frames of <paramref name="buffer"/> (which starts at absolute offset <paramref name="bufferOffset"/>)
    /// from where the last call stopped. <paramref name="isFinal"/>: no more bytes will come.
    /// </summary>
    public void Scan(in ReadOnlySequence<byte> buffer, long bufferOffset, bool isFinal)
    {
        Parley.Raft.Invariant.Check(bufferOffset <= _scanOffset || IsOff || Pending is not null, "the server never consumes bytes the scanner has not passed");
        var end = bufferOffset + buffer.Length;
        if (!IsOff && Pending is null && _scanOffset < Preface.Length && end >= Preface.Length)
        {
            Span<byte> preface = stackalloc byte[Preface.Length];
            buffer.Slice(_scanOffset - bufferOffset, Preface.Length).CopyTo(preface);
            IsOff = !preface.SequenceEqual(Preface);
            _scanOffset = Preface.Length;
        }
        if (!IsOff && Pending is null && _scanOffset >= Preface.Length && _scanOffset < end)
        {
            ScanFrames(buffer.Slice(_scanOffset - bufferOffset), _scanOffset);
        }
        if (isFinal && Pending is null && _scanOffset < end)
        {
            IsOff = true; // what is left will never be complete: let the server see it and fail as it would
        }
    }

    /// <summary>The server has been given <see cref="Pending"/> in full; scanning goes on after the original block.</summary>
    public void CompletePending()
    {
        Parley.Raft.Invariant.Check(Pending is not null, "a pending rewrite to complete");
        _scanOffset = Pending!.End;
        Pending = null;
        RewrittenBlocks++;
    }

    private static int PayloadLength(ReadOnlySpan<byte> header) => (header[0] << 16) | (header[1] << 8) | header[2];

    /// <summary>
    /// Walks the frames of <paramref name="rest"/> (which starts at the next frame, absolute offset
    /// <paramref name="restOffset"/>) with a SequenceReader, so that
    /// each frame costs a header copy and an advance, whatever the number of segments. A header block that lies in
    /// one span with END_HEADERS (the usual case) is classified in place.
    /// </summary>
    private void ScanFrames(in ReadOnlySequence<byte> rest, long restOffset)
    {
        var reader = new SequenceReader<byte>(rest);
        Span<byte> header = stackalloc byte[FrameHeaderBytes];
        while (!IsOff && Pending is null && reader.TryCopyTo(header))
        {
            var type = header[3];
            var frameBytes = FrameHeaderBytes + PayloadLength(header);
            if (type == FrameTypeHeaders)
            {
                var before = _scanOffset;
                var unread = reader.UnreadSpan;
                if (unread.Length >= frameBytes && (header[4] & FlagEndHeaders) != 0)
                {
                    ClassifyHeaderBlock(unread[..frameBytes]);
                }
                else if (!TryScanHeaderBlock(rest, restOffset))
                {
                    return; // the block is not complete yet
                }
                reader.Advance(_scanOffset - before);
            }
            else if (type is FrameTypeContinuation or FrameTypePushPromise)
            {
                IsOff = true; // a CONTINUATION outside a block, or a PUSH_PROMISE from a client: connection errors (RFC 9113 §6.10, §8.4)
            }
            else
            {
                _scanOffset += frameBytes;
                if (reader.Remaining < frameBytes)
                {
                    return; // the payload goes on past what has arrived; it passes as it comes
                }
                reader.Advance(frameBytes);
            }
        }
    }

    /// <summary>False if the block's frames are not all in <paramref name="buffer"/> yet; true once it is classified.</summary>
    private bool TryScanHeaderBlock(in ReadOnlySequence<byte> buffer, long bufferOffset)
    {
        var end = bufferOffset + buffer.Length;
        Span<byte> header = stackalloc byte[FrameHeaderBytes];
        var frameStart = _scanOffset;
        var frames = 0;
        uint streamId = 0;
        while (true)
        {
            if (frameStart + FrameHeaderBytes > end)
            {
                return false;
            }
            buffer.Slice(frameStart - bufferOffset, FrameHeaderBytes).CopyTo(header);
            var id = BinaryPrimitives.ReadUInt32BigEndian(header[5..]) & 0x7FFF_FFFF;
            if (frames == 0)
            {
                streamId = id;
            }
            else if (header[3] != FrameTypeContinuation || id != streamId)
            {
                IsOff = true; // a header block's frames must be contiguous on one stream (RFC 9113 §6.10)
                return true;
            }
            var length = PayloadLength(header);
            if (frameStart + FrameHeaderBytes + length - _scanOffset > HeaderBlockBytesMax)
            {
                IsOff = true;
                return true;
            }
            if (frameStart + FrameHeaderBytes + length > end)
            {
                return false;
            }
            frames++;
            frameStart += FrameHeaderBytes + length;
            if ((header[4] & FlagEndHeaders) != 0)
            {
                break;
            }
        }
        var block = buffer.Slice(_scanOffset - bufferOffset, frameStart - _scanOffset);
        if (block.IsSingleSegment)
        {
            ClassifyHeaderBlock(block.FirstSpan);
            return true;
        }
        var contiguous = ArrayPool<byte>.Shared.Rent((int)block.Length);
        try
        {
            block.CopyTo(contiguous);
            ClassifyHeaderBlock(contiguous.AsSpan(0, (int)block.Length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(contiguous);
        }
        return true;
    }

    /// <summary>
    /// Walks a complete block (its HEADERS and CONTINUATION frames, contiguous): passes it (the scan offset moves past
    /// it), marks it for a rewrite (<see cref="Pending"/>), or switches the scanner off.
    /// </summary>
    private void ClassifyHeaderBlock(ReadOnlySpan<byte> frames)
    {
        if (!TrySplitHeaders(frames, out var headersFlags, out var priority, out var firstFragment, out var streamId))
        {
            IsOff = true;
            return;
        }
        byte[]? gathered = null;
        try
        {
            if (FrameHeaderBytes + PayloadLength(frames) != frames.Length)
            {
                gathered = ArrayPool<byte>.Shared.Rent(frames.Length); // CONTINUATION frames: the block is split
            }
            var fragment = Gather(frames, firstFragment, gathered);
            _edits.Clear();
            if (!_editor.TryWalk(fragment, _edits))
            {
                IsOff = true;
                return;
            }
            if (_edits.Count == 0)
            {
                _scanOffset += frames.Length;
                return;
            }
            Pending = new HeaderBlockRewrite(_scanOffset, frames.Length, BuildFrames(fragment, headersFlags, priority, streamId));
        }
        finally
        {
            if (gathered is not null)
            {
                ArrayPool<byte>.Shared.Return(gathered);
            }
        }
    }

    /// <summary>
    /// The HEADERS frame's fields (RFC 9113 §6.2): flags, the 5 priority bytes if PRIORITY, and where its fragment
    /// lies once the pad length byte, priority and padding are taken off. False if the padding does not fit.
    /// </summary>
    private static bool TrySplitHeaders(ReadOnlySpan<byte> frames, out byte flags, out ReadOnlySpan<byte> priority, out Range fragment, out ReadOnlySpan<byte> streamId)
    {
        var length = PayloadLength(frames);
        flags = frames[4];
        streamId = frames.Slice(5, 4);
        var payload = frames.Slice(FrameHeaderBytes, length);
        var start = 0;
        var padding = 0;
        if ((flags & FlagPadded) != 0)
        {
            if (payload.IsEmpty)
            {
                priority = default;
                fragment = default;
                return false;
            }
            padding = payload[0];
            start = 1;
        }
        priority = (flags & FlagPriority) != 0 && payload.Length >= start + PriorityBytes ? payload.Slice(start, PriorityBytes) : default;
        start += (flags & FlagPriority) != 0 ? PriorityBytes : 0;
        fragment = new Range(FrameHeaderBytes + start, FrameHeaderBytes + length - padding);
        return start + padding <= length;
    }

    /// <summary>The whole header block: the HEADERS fragment alone, or it and every CONTINUATION payload copied into <paramref name="copy"/>.</summary>
    private static ReadOnlySpan<byte> Gather(ReadOnlySpan<byte> frames, Range firstFragment, byte[]? copy)
    {
        var first = frames[firstFragment];
        var headersLength = FrameHeaderBytes + PayloadLength(frames);
        if (copy is null)
        {
            Parley.Raft.Invariant.Check(headersLength == frames.Length, "a block of one HEADERS frame needs no copy");
            return first;
        }
        first.CopyTo(copy);
        var written = first.Length;
        for (var offset = headersLength; offset < frames.Length;)
        {
            var payload = frames.Slice(offset + FrameHeaderBytes, PayloadLength(frames[offset..]));
            payload.CopyTo(copy.AsSpan(written));
            written += payload.Length;
            offset += FrameHeaderBytes + payload.Length;
        }
        return copy.AsSpan(0, written);
    }

    /// <summary>
    /// The block with its edits applied, framed again: one HEADERS frame (same END_STREAM and PRIORITY, no padding)
    /// and as many CONTINUATION frames as <see cref="FramePayloadBytesMax"/> requires, END_HEADERS on the last.
    /// </summary>
    private byte[] BuildFrames(ReadOnlySpan<byte> fragment, byte headersFlags, ReadOnlySpan<byte> priority, ReadOnlySpan<byte> streamId)
    {
        var block = new byte[HpackAuthorityEditor.RewrittenLength(fragment, _edits)];
        HpackAuthorityEditor.Rewrite(fragment, _edits, block);
        var firstChunk = Math.Min(block.Length, FramePayloadBytesMax - priority.Length);
        var continuations = (block.Length - firstChunk + FramePayloadBytesMax - 1) / FramePayloadBytesMax;
        var output = new byte[(FrameHeaderBytes * (1 + continuations)) + priority.Length + block.Length];
        var flags = (byte)(headersFlags & (FlagEndStream | FlagPriority));
        var written = WriteFrameHeader(output, priority.Length + firstChunk, FrameTypeHeaders, (byte)(flags | (continuations == 0 ? FlagEndHeaders : 0)), streamId);
        priority.CopyTo(output.AsSpan(written));
        written += priority.Length;
        block.AsSpan(0, firstChunk).CopyTo(output.AsSpan(written));
        written += firstChunk;
        for (var offset = firstChunk; offset < block.Length;)
        {
            var chunk = Math.Min(FramePayloadBytesMax, block.Length - offset);
            var last = offset + chunk == block.Length;
            written += WriteFrameHeader(output.AsSpan(written), chunk, FrameTypeContinuation, last ? FlagEndHeaders : (byte)0, streamId);
            block.AsSpan(offset, chunk).CopyTo(output.AsSpan(written));
            written += chunk;
            offset += chunk;
        }
        Parley.Raft.Invariant.Check(written == output.Length, "rewritten frames fill exactly their computed length");
        return output;
    }

    private static int WriteFrameHeader(Span<byte> destination, int length, byte type, byte flags, ReadOnlySpan<byte> streamId)
    {
        destination[0] = (byte)(length >> 16);
        destination[1] = (byte)(length >> 8);
        destination[2] = (byte)length;
        destination[3] = type;
        destination[4] = flags;
        streamId.CopyTo(destination[5..]);
        return FrameHeaderBytes;
    }
}
