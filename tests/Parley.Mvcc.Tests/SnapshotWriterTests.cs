using System.Buffers;
using System.Buffers.Binary;

namespace Parley.Mvcc.Tests;

/// <summary>The writer commits a window at a time: what reaches the output, its checksum and a counting writer's length
/// must be the same as field-by-field writing would give.</summary>
public class SnapshotWriterTests
{
    [Fact]
    public void Output_Checksum_AndCountedLength_Agree()
    {
        var output = new ArrayBufferWriter<byte>(16); // grows: windows of whatever it has left
        var writer = new SnapshotWriter(output);
        var counter = SnapshotWriter.Counting();
        var expected = new List<byte>();
        var random = new Random(5);
        for (int i = 0; i < 20_000; i++)
        {
            ulong number = (ulong)random.NextInt64() >> random.Next(64);
            byte[] bytes = new byte[random.Next(0, i % 100 == 0 ? 10_000 : 40)];
            random.NextBytes(bytes);
            foreach (SnapshotWriter target in new[] { writer, counter })
            {
                target.WriteUnsigned(number);
                target.WriteBytes(bytes);
                target.WriteBoolean(i % 2 == 0);
            }
            AppendVarint(expected, number);
            AppendVarint(expected, (ulong)bytes.Length);
            expected.AddRange(bytes);
            expected.Add(i % 2 == 0 ? (byte)1 : (byte)0);
        }
        writer.WriteChecksum();
        counter.WriteChecksum();

        byte[] body = expected.ToArray();
        Assert.Equal(body, output.WrittenSpan[..^4].ToArray());
        Assert.Equal(Crc32C.Update(0, body), BinaryPrimitives.ReadUInt32LittleEndian(output.WrittenSpan[^4..]));
        Assert.Equal(output.WrittenCount, counter.Length);
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
