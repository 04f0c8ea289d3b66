using System.Buffers.Binary;

namespace Parley.Raft;

public enum ConfigChangeType : byte
{
    /// <summary>Adds a voter, or promotes an existing learner to voter.</summary>
    AddVoter = 1,
    AddLearner = 2,
    RemoveNode = 3,
}

/// <summary>A single-member change, carried in the data of an <see cref="EntryType.ConfigChange"/> entry.</summary>
public readonly record struct ConfigChange(ConfigChangeType Type, ulong NodeId, ReadOnlyMemory<byte> Context)
{
    private const int HeaderBytes = 9;

    public byte[] Encode()
    {
        var bytes = new byte[HeaderBytes + Context.Length];
        bytes[0] = (byte)Type;
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(1), NodeId);
        Context.Span.CopyTo(bytes.AsSpan(HeaderBytes));
        return bytes;
    }

    public static bool TryDecode(ReadOnlySpan<byte> data, out ConfigChange change)
    {
        change = default;
        if (data.Length < HeaderBytes || data[0] is < 1 or > 3)
        {
            return false;
        }
        var id = BinaryPrimitives.ReadUInt64LittleEndian(data[1..]);
        change = new ConfigChange((ConfigChangeType)data[0], id, data[HeaderBytes..].ToArray());
        return true;
    }

    public static ConfigChange Decode(ReadOnlySpan<byte> data) =>
        TryDecode(data, out var change) ? change : throw new FormatException("malformed config change entry");
}
