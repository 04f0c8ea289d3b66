using System.Buffers;
using System.Buffers.Binary;

namespace Parley.Mvcc.Tests;

/// <summary>The writer commits a window at a time: what reaches the output, its checksum and the fields' sizes added up
/// must be the same as field-by-field writing would give.</summary>
public class SnapshotWriterTests
{
    [Fact]
    public void Output_Checksum_AndCountedLength_Agree()
    {
        var output = new ArrayBufferWriter<byte>(16); // grows: windows of whatever it has left
        var writer = new SnapshotWriter(output);
        long counted = 0;
        var expected = new List<byte>();
        var random = new Random(5);
        for (int i = 0; i < 20_000; i++)
        {
            ulong number = (ulong)random.NextInt64() >> random.Next(64);
            byte[] bytes = new byte[random.Next(0, i % 100 == 0 ? 10_000 : 40)];
            random.NextBytes(bytes);
            writer.WriteUnsigned(number);
            writer.WriteBytes(bytes);
            writer.WriteBoolean(i % 2 == 0);
            long signed = (long)number * (i % 3 == 0 ? -1 : 1);
            writer.WriteSigned(signed);
            counted += SnapshotWriter.SizeOfUnsigned(number) + SnapshotWriter.SizeOfBytes(bytes.Length) + 1 + SnapshotWriter.SizeOfSigned(signed);
            if (i % 7 == 0)
            {
                writer.WriteSigned(long.MinValue + i);
                counted += SnapshotWriter.SizeOfSigned(long.MinValue + i);
            }
            AppendVarint(expected, number);
            AppendVarint(expected, (ulong)bytes.Length);
            expected.AddRange(bytes);
            expected.Add(i % 2 == 0 ? (byte)1 : (byte)0);
            AppendVarint(expected, ZigZag(signed));
            if (i % 7 == 0)
            {
                AppendVarint(expected, ZigZag(long.MinValue + i));
            }
        }
        writer.WriteChecksum();
        counted += SnapshotWriter.ChecksumBytes;

        byte[] body = expected.ToArray();
        Assert.Equal(body, output.WrittenSpan[..^4].ToArray());
        Assert.Equal(Crc32C.Update(0, body), BinaryPrimitives.ReadUInt32LittleEndian(output.WrittenSpan[^4..]));
        Assert.Equal(output.WrittenCount, counted);
        Assert.Equal(output.WrittenCount, writer.Length);
    }

    [Theory]
    [InlineData(0UL, 1)]
    [InlineData(127UL, 1)]
    [InlineData(128UL, 2)]
    [InlineData(16_383UL, 2)]
    [InlineData(16_384UL, 3)]
    [InlineData((1UL << 63) - 1, 9)]
    [InlineData(1UL << 63, 10)]
    [InlineData(ulong.MaxValue, 10)]
    public void SizeOfUnsigned_IsWhatTheVarintTakes(ulong value, int bytes)
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new SnapshotWriter(output);
        writer.WriteUnsigned(value);
        writer.Flush();
        Assert.Equal(bytes, output.WrittenCount);
        Assert.Equal(bytes, SnapshotWriter.SizeOfUnsigned(value));
    }

    [Fact]
    public void NothingReachesTheOutput_UntilFlushed()
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new SnapshotWriter(output);
        writer.WriteString("abc");
        Assert.Equal(0, output.WrittenCount);
        writer.Flush();
        Assert.Equal(new byte[] { 3, (byte)'a', (byte)'b', (byte)'c' }, output.WrittenSpan.ToArray());
    }

    private static ulong ZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));

    private static void AppendVarint(List<byte> into, ulong value)
    {
        while (value >= 0x80)
        {
            into.Add((byte)(value | 0x80));
            value >>= 7;
        }
        into.Add((byte)value);
    }
}
