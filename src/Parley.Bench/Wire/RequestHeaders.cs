using System.Buffers;
using System.Diagnostics;
using System.Text;

namespace Parley.Bench.Wire;

/// <summary>
/// Request header blocks, HPACK-encoded without touching the dynamic table (literals without indexing, plain
/// strings), so a method's fixed part is encoded once per connection and reused.
/// </summary>
internal static class RequestHeaders
{
    public static byte[] Fixed(string path, string authority)
    {
        var block = new ArrayBufferWriter<byte>(128);
        block.Write<byte>([0x83, 0x86]); // :method POST, :scheme http (static table 3 and 6)
        WriteLiteral(block, 4, null, path); // :path
        WriteLiteral(block, 1, null, authority); // :authority
        WriteLiteral(block, 31, null, "application/grpc"); // content-type
        WriteLiteral(block, 0, "te", "trailers");
        WriteLiteral(block, 58, null, "parley-bench"); // user-agent
        return block.WrittenSpan.ToArray();
    }

    /// <summary>Writes the fixed block, then the call's deadline (grpc-timeout) and metadata.</summary>
    public static void Write(ArrayBufferWriter<byte> block, byte[] fixedBlock, LeanCall call)
    {
        block.Write<byte>(fixedBlock);
        if (call.DeadlineTimestamp != long.MaxValue)
        {
            var remaining = Math.Max(1, (call.DeadlineTimestamp - Stopwatch.GetTimestamp()) * 1000 / Stopwatch.Frequency);
            WriteInteger(block, 0x00, 4, 0);
            WriteString(block, "grpc-timeout");
            var span = block.GetSpan(16);
            Math.Min(remaining, 99_999_999).TryFormat(span[1..], out var digits); // at most 8 digits (gRPC over HTTP/2)
            span[0] = (byte)(digits + 1); // a plain string's length: fits the 7-bit prefix
            span[digits + 1] = (byte)'m';
            block.Advance(digits + 2);
        }
        foreach (var entry in call.Options.Headers ?? [])
        {
            WriteLiteral(block, 0, entry.Key, entry.IsBinary ? Convert.ToBase64String(entry.ValueBytes).TrimEnd('=') : entry.Value);
        }
    }

    /// <summary>A literal without indexing (RFC 7541 §6.2.2): a static name index, or 0 and the name.</summary>
    private static void WriteLiteral(ArrayBufferWriter<byte> block, int nameIndex, string? name, string value)
    {
        WriteInteger(block, 0x00, 4, nameIndex);
        if (name is not null)
        {
            WriteString(block, name);
        }
        WriteString(block, value);
    }

    private static void WriteString(ArrayBufferWriter<byte> block, string text)
    {
        var length = Encoding.ASCII.GetByteCount(text);
        WriteInteger(block, 0x00, 7, length); // not Huffman-coded
        Encoding.ASCII.GetBytes(text, block.GetSpan(length));
        block.Advance(length);
    }

    private static void WriteInteger(ArrayBufferWriter<byte> block, byte pattern, int prefixBits, int value)
    {
        var prefixMax = (1 << prefixBits) - 1;
        if (value < prefixMax)
        {
            block.Write<byte>([(byte)(pattern | value)]);
            return;
        }
        block.Write<byte>([(byte)(pattern | prefixMax)]);
        value -= prefixMax;
        while (value >= 0x80)
        {
            block.Write<byte>([(byte)((value & 0x7F) | 0x80)]);
            value >>= 7;
        }
        block.Write<byte>([(byte)value]);
    }
}
