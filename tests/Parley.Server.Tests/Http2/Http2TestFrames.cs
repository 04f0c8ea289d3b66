using System.Buffers.Binary;

namespace Parley.Server.Tests.Http2;

/// <summary>One HTTP/2 frame (RFC 9113 §4.1).</summary>
public sealed record Http2TestFrame(byte Type, byte Flags, int StreamId, byte[] Payload);

/// <summary>Builds and parses the client side of HTTP/2 connections for tests.</summary>
public static class Http2TestFrames
{
    public const byte Data = 0x0;
    public const byte Headers = 0x1;
    public const byte RstStream = 0x3;
    public const byte Settings = 0x4;
    public const byte Ping = 0x6;
    public const byte GoAway = 0x7;
    public const byte WindowUpdate = 0x8;
    public const byte Continuation = 0x9;
    public const byte EndStream = 0x1;
    public const byte EndHeaders = 0x4;
    public const byte Padded = 0x8;
    public const byte Priority = 0x20;

    public static byte[] Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    public static byte[] Frame(byte type, byte flags, int streamId, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[9 + payload.Length];
        frame[0] = (byte)(payload.Length >> 16);
        frame[1] = (byte)(payload.Length >> 8);
        frame[2] = (byte)payload.Length;
        frame[3] = type;
        frame[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(5), streamId);
        payload.CopyTo(frame.AsSpan(9));
        return frame;
    }

    /// <summary>
    /// A header block as HEADERS (with END_STREAM unless told otherwise, optional padding and priority) followed by
    /// CONTINUATION frames when <paramref name="fragmentSizes"/> splits it.
    /// </summary>
    public static byte[] HeaderBlock(int streamId, byte[] block, bool endStream = true, int padding = -1, bool priority = false, params int[] fragmentSizes)
    {
        var pieces = new List<byte[]>();
        var offset = 0;
        foreach (var size in fragmentSizes)
        {
            pieces.Add(block[offset..(offset + size)]);
            offset += size;
        }
        pieces.Add(block[offset..]);
        var payload = new List<byte>();
        var flags = (byte)(endStream ? EndStream : 0);
        if (padding >= 0)
        {
            flags |= Padded;
            payload.Add((byte)padding);
        }
        if (priority)
        {
            flags |= Priority;
            payload.AddRange([0x80, 0, 0, 0x03, 0x0F]); // exclusive on stream 3, weight 16
        }
        payload.AddRange(pieces[0]);
        payload.AddRange(new byte[Math.Max(0, padding)]);
        var output = new List<byte>(Frame(Headers, (byte)(flags | (pieces.Count == 1 ? EndHeaders : 0)), streamId, payload.ToArray()));
        for (var i = 1; i < pieces.Count; i++)
        {
            output.AddRange(Frame(Continuation, i == pieces.Count - 1 ? EndHeaders : (byte)0, streamId, pieces[i]));
        }
        return [.. output];
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(part => part).ToArray();

    /// <summary>Parses frames from <paramref name="bytes"/> (the preface, if first, is skipped); every frame must be complete.</summary>
    public static List<Http2TestFrame> Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.StartsWith(Preface))
        {
            bytes = bytes[Preface.Length..];
        }
        var frames = new List<Http2TestFrame>();
        while (!bytes.IsEmpty)
        {
            Assert.True(bytes.Length >= 9, "a complete frame header");
            var length = (bytes[0] << 16) | (bytes[1] << 8) | bytes[2];
            Assert.True(bytes.Length >= 9 + length, "a complete frame");
            frames.Add(new Http2TestFrame(bytes[3], bytes[4], BinaryPrimitives.ReadInt32BigEndian(bytes[5..]) & 0x7FFFFFFF, bytes.Slice(9, length).ToArray()));
            bytes = bytes[(9 + length)..];
        }
        return frames;
    }

    /// <summary>The header blocks in <paramref name="frames"/>, reassembled from HEADERS and CONTINUATION, padding and priority removed.</summary>
    public static List<(int StreamId, byte Flags, byte[] Block)> HeaderBlocks(List<Http2TestFrame> frames)
    {
        var blocks = new List<(int, byte, byte[])>();
        for (var i = 0; i < frames.Count; i++)
        {
            var frame = frames[i];
            if (frame.Type != Headers)
            {
                continue;
            }
            var payload = frame.Payload.AsSpan();
            var padding = 0;
            if ((frame.Flags & Padded) != 0)
            {
                padding = payload[0];
                payload = payload[1..];
            }
            if ((frame.Flags & Priority) != 0)
            {
                payload = payload[5..];
            }
            var block = new List<byte>(payload[..^padding].ToArray());
            var flags = frame.Flags;
            while ((flags & EndHeaders) == 0)
            {
                var next = frames[++i];
                Assert.Equal((Continuation, frame.StreamId), (next.Type, next.StreamId));
                block.AddRange(next.Payload);
                flags = next.Flags;
            }
            blocks.Add((frame.StreamId, frame.Flags, block.ToArray()));
        }
        return blocks;
    }
}
