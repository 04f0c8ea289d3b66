using System.Buffers.Binary;

namespace Parley.Simulation;

/// <summary>A client write as it travels in a log entry: which operation, which key, which value.</summary>
public readonly record struct ClientCommand(ulong OperationId, int Key, ulong Value)
{
    public const int SizeBytes = 20;

    public byte[] Encode()
    {
        var bytes = new byte[SizeBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, OperationId);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), Key);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(12), Value);
        return bytes;
    }

    public static ClientCommand Decode(ReadOnlySpan<byte> data) => new(
        BinaryPrimitives.ReadUInt64LittleEndian(data),
        BinaryPrimitives.ReadInt32LittleEndian(data[8..]),
        BinaryPrimitives.ReadUInt64LittleEndian(data[12..]));
}
