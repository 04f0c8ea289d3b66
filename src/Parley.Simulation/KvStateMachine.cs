using System.Buffers.Binary;

namespace Parley.Simulation;

/// <summary>
/// The simulated application: a map from small integer keys to the last value written and the log index of
/// that write, so that reads can be checked against acknowledged writes.
/// </summary>
public sealed class KvStateMachine
{
    private readonly SortedDictionary<int, (ulong Value, ulong Index)> _values = [];

    public ulong AppliedIndex { get; private set; }

    public void Apply(ulong index, ClientCommand command)
    {
        _values[command.Key] = (command.Value, index);
        AppliedIndex = index;
    }

    public void Skip(ulong index) => AppliedIndex = index;

    public (ulong Value, ulong Index) Read(int key) => _values.TryGetValue(key, out var v) ? v : (0, 0);

    public byte[] Serialize()
    {
        var bytes = new byte[8 + _values.Count * 20];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, AppliedIndex);
        var offset = 8;
        foreach (var (key, (value, index)) in _values)
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(offset), key);
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(offset + 4), value);
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(offset + 12), index);
            offset += 20;
        }
        return bytes;
    }

    public void Restore(ReadOnlySpan<byte> bytes)
    {
        _values.Clear();
        AppliedIndex = 0;
        if (bytes.IsEmpty)
        {
            return;
        }
        AppliedIndex = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        for (var offset = 8; offset < bytes.Length; offset += 20)
        {
            var key = BinaryPrimitives.ReadInt32LittleEndian(bytes[offset..]);
            var value = BinaryPrimitives.ReadUInt64LittleEndian(bytes[(offset + 4)..]);
            var index = BinaryPrimitives.ReadUInt64LittleEndian(bytes[(offset + 12)..]);
            _values[key] = (value, index);
        }
    }
}
