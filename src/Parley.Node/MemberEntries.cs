using System.Text;

namespace Parley.Node;

/// <summary>
/// How membership requests travel. A request for a Raft configuration change (add, promote, remove) is forwarded to
/// the leader as a <see cref="Request"/>; the leader checks it against the applied membership and proposes either a
/// configuration change entry (its context says who asked and the peer URLs) or a <see cref="Refusal"/> entry, so the
/// origin learns the verdict when it applies the entry, as it learns the outcome of a write. An update of peer URLs
/// changes no configuration: it is an ordinary <see cref="Update"/> entry, checked when applied. The first byte tells
/// these apart from <see cref="Proposal"/> (formats 1 and 2).
/// </summary>
internal static class MemberEntries
{
    public const byte Refusal = 0xC1;
    public const byte Update = 0xC2;
    public const byte Request = 0xC3;
    private const byte ContextFormat = 1;

    public static bool IsMemberEntry(ReadOnlySpan<byte> data) => data.Length > 0 && data[0] is Refusal or Update or Request;

    /// <summary>
    /// A request that may wait at most <paramref name="ticksLeft"/> more ticks to be proposed: its origin gives up on it
    /// then (the client hears "request timed out"), so whoever holds it afterwards drops it instead of making the
    /// change long after the client was told it timed out (a member that forwards it encodes what is left then).
    /// </summary>
    public static byte[] EncodeRequest(ulong origin, ulong proposalId, MemberChange change, long ticksLeft)
    {
        var writer = new CommandWriter(64);
        writer.WriteByte(Request);
        writer.WriteFixed64(origin);
        writer.WriteFixed64(proposalId);
        writer.WriteFixed64((ulong)Math.Max(0, ticksLeft));
        writer.WriteByte((byte)change.Kind);
        writer.WriteFixed64(change.MemberId);
        WriteUrls(writer, change.PeerUrls);
        return writer.ToArray();
    }

    public static byte[] EncodeUpdate(ulong origin, ulong proposalId, ulong memberId, IReadOnlyList<string> peerUrls)
    {
        var writer = new CommandWriter(64);
        writer.WriteByte(Update);
        writer.WriteFixed64(origin);
        writer.WriteFixed64(proposalId);
        writer.WriteFixed64(memberId);
        WriteUrls(writer, peerUrls);
        return writer.ToArray();
    }

    public static byte[] EncodeRefusal(ulong origin, ulong proposalId, MemberError error)
    {
        var writer = new CommandWriter(24);
        writer.WriteByte(Refusal);
        writer.WriteFixed64(origin);
        writer.WriteFixed64(proposalId);
        writer.WriteByte((byte)error);
        return writer.ToArray();
    }

    /// <summary>The context of a configuration change entry: who asked, and the member's peer URLs.</summary>
    public static byte[] EncodeContext(ulong origin, ulong proposalId, IReadOnlyList<string> peerUrls)
    {
        var writer = new CommandWriter(64);
        writer.WriteByte(ContextFormat);
        writer.WriteFixed64(origin);
        writer.WriteFixed64(proposalId);
        WriteUrls(writer, peerUrls);
        return writer.ToArray();
    }

    /// <summary>Decodes a member entry or forwarded request; throws <see cref="FormatException"/> when malformed.</summary>
    public static MemberEntry Decode(ReadOnlySpan<byte> data)
    {
        var reader = new CommandReader(data);
        var type = reader.ReadByte();
        var origin = reader.ReadFixed64();
        var proposalId = reader.ReadFixed64();
        MemberEntry entry = type switch
        {
            Refusal => new MemberEntry(type, origin, proposalId, null, ReadError(ref reader)),
            Update => new MemberEntry(type, origin, proposalId, new MemberChange(MemberChangeKind.Update, reader.ReadFixed64(), ReadUrls(ref reader)), MemberError.None),
            Request => ReadRequest(ref reader, origin, proposalId),
            _ => throw new FormatException("not a member entry"),
        };
        if (!reader.IsAtEnd)
        {
            throw new FormatException("trailing bytes in a member entry");
        }
        return entry;
    }

    /// <summary>Decodes a configuration change's context; an empty one (a cluster bootstrapped before contexts) has no URLs.</summary>
    public static (ulong Origin, ulong ProposalId, string[] PeerUrls) DecodeContext(ReadOnlySpan<byte> context)
    {
        if (context.IsEmpty)
        {
            return (0, 0, []);
        }
        var reader = new CommandReader(context);
        if (reader.ReadByte() != ContextFormat)
        {
            throw new FormatException("unknown configuration change context format");
        }
        var origin = reader.ReadFixed64();
        var proposalId = reader.ReadFixed64();
        var urls = ReadUrls(ref reader);
        if (!reader.IsAtEnd)
        {
            throw new FormatException("trailing bytes in a configuration change context");
        }
        return (origin, proposalId, urls);
    }

    private static MemberEntry ReadRequest(ref CommandReader reader, ulong origin, ulong proposalId)
    {
        var ticksLeft = (long)Math.Min(reader.ReadFixed64(), long.MaxValue);
        return new MemberEntry(Request, origin, proposalId, ReadChange(ref reader), MemberError.None, ticksLeft);
    }

    private static MemberChange ReadChange(ref CommandReader reader)
    {
        var kind = (MemberChangeKind)reader.ReadByte();
        if (!Enum.IsDefined(kind))
        {
            throw new FormatException("unknown member change kind");
        }
        return new MemberChange(kind, reader.ReadFixed64(), ReadUrls(ref reader));
    }

    private static MemberError ReadError(ref CommandReader reader)
    {
        var error = (MemberError)reader.ReadByte();
        return Enum.IsDefined(error) ? error : throw new FormatException("unknown member error");
    }

    private static void WriteUrls(CommandWriter writer, IReadOnlyList<string> urls)
    {
        writer.WriteUnsigned((ulong)urls.Count);
        foreach (var url in urls)
        {
            writer.WriteBytes(Encoding.UTF8.GetBytes(url));
        }
    }

    private static string[] ReadUrls(ref CommandReader reader)
    {
        var urls = new string[reader.ReadCount()];
        for (var i = 0; i < urls.Length; i++)
        {
            urls[i] = Encoding.UTF8.GetString(reader.ReadBytes());
        }
        return urls;
    }
}

/// <summary>A decoded member entry or request (<see cref="MemberEntries"/>); only a request has a time to live.</summary>
internal sealed record MemberEntry(byte Type, ulong Origin, ulong ProposalId, MemberChange? Change, MemberError Refusal, long TicksLeft = 0);
