namespace Parley.Mvcc;

/// <summary>Equality of byte arrays by content (for the txn duplicate-key sets).</summary>
internal sealed class ByteArrayContentComparer : IEqualityComparer<byte[]>
{
    public static ByteArrayContentComparer Instance { get; } = new();

    public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

    public int GetHashCode(byte[] obj)
    {
        var hash = new HashCode();
        hash.AddBytes(obj);
        return hash.ToHashCode();
    }
}
