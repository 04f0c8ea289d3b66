namespace Parley.Server.Http2;

/// <summary>
/// What Kestrel accepts as the host of an HTTP/2 request (<c>:authority</c>, validated like a Host header), and a
/// same-length stand-in for a value it would refuse.
/// </summary>
/// <remarks>
/// Kestrel accepts: empty; <c>[</c> hex digits, colons and dots <c>]</c> (at least 3 inside), optionally followed by
/// <c>:</c> digits; or a name of letters, digits and <c>!$&amp;'()-._~</c> not starting with <c>:</c>, optionally followed by
/// <c>:</c> and at least one digit. etcdctl sends <c>http://127.0.0.1:2379</c> when an endpoint is given with its scheme
/// (grpc-go uses the dial target as the authority); etcd's Go server takes it, Kestrel resets the stream.
/// </remarks>
internal static class HostSyntax
{
    public static bool IsAcceptable(ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty)
        {
            return true;
        }
        if (value[0] == (byte)'[')
        {
            var close = value.IndexOf((byte)']');
            return close >= 4 && IsIPv6Body(value[1..close]) && IsPortOrNothing(value[(close + 1)..]);
        }
        var i = 0;
        while (i < value.Length && IsNameChar(value[i]))
        {
            i++;
        }
        return i > 0 && (i == value.Length || (value[i] == (byte)':' && value.Length > i + 1 && AllDigits(value[(i + 1)..])));
    }

    /// <summary>
    /// Writes a value of the same length that <see cref="IsAcceptable"/>: a trailing <c>:port</c> is kept, name
    /// characters are kept, every other byte becomes <c>-</c> (<c>http://127.0.0.1:2379</c> → <c>http---127.0.0.1:2379</c>).
    /// </summary>
    public static void Repair(ReadOnlySpan<byte> value, Span<byte> destination)
    {
        Parley.Raft.Invariant.Check(destination.Length == value.Length, "a repaired host keeps its length");
        var colon = value.LastIndexOf((byte)':');
        var hostLength = colon > 0 && colon < value.Length - 1 && AllDigits(value[(colon + 1)..]) ? colon : value.Length;
        for (var i = 0; i < value.Length; i++)
        {
            destination[i] = i >= hostLength || IsNameChar(value[i]) ? value[i] : (byte)'-';
        }
        Parley.Raft.Invariant.Check(IsAcceptable(destination), "a repaired host is acceptable");
    }

    private static bool IsIPv6Body(ReadOnlySpan<byte> body)
    {
        foreach (var c in body)
        {
            if (!(char.IsAsciiHexDigit((char)c) || c == (byte)':' || c == (byte)'.'))
            {
                return false;
            }
        }
        return true;
    }

    private static bool IsPortOrNothing(ReadOnlySpan<byte> rest) => rest.IsEmpty || (rest[0] == (byte)':' && rest.Length > 1 && AllDigits(rest[1..]));

    private static bool AllDigits(ReadOnlySpan<byte> digits)
    {
        foreach (var c in digits)
        {
            if (!char.IsAsciiDigit((char)c))
            {
                return false;
            }
        }
        return true;
    }

    private static bool IsNameChar(byte c) => char.IsAsciiLetterOrDigit((char)c) || c is (byte)'!' or (byte)'$' or (byte)'&' or (byte)'\'' or (byte)'(' or (byte)')' or (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~';
}
