namespace Parley.Storage;

/// <summary>Names, magic numbers and the format version of everything Parley.Storage puts on disk.</summary>
public static class StorageFormat
{
    /// <summary>Bumped on any incompatible change; a directory of another version is refused.</summary>
    public const uint Version = 1;

    public const string IdentityFileName = "member.parley";
    public const string WalDirectoryName = "wal";
    public const string SnapshotDirectoryName = "snap";
    public const string SegmentExtension = ".wal";
    public const string SnapshotExtension = ".snap";
    public const string TemporaryExtension = ".tmp";

    internal const ulong SegmentMagic = 0x534C_4157_594C_5250; // "PRLYWALS" little-endian
    internal const ulong SnapshotMagic = 0x5041_4E53_594C_5250; // "PRLYSNAP"
    internal const ulong IdentityMagic = 0x424D_454D_594C_5250; // "PRLYMEMB"

    public static string SegmentFileName(ulong sequence) => $"{sequence:x16}{SegmentExtension}";

    public static string SnapshotFileName(ulong index, ulong term) => $"{index:x16}-{term:x16}{SnapshotExtension}";

    public static bool TryParseSegmentFileName(string name, out ulong sequence)
    {
        sequence = 0;
        return name.Length == 16 + SegmentExtension.Length && name.EndsWith(SegmentExtension, StringComparison.Ordinal)
            && ulong.TryParse(name.AsSpan(0, 16), System.Globalization.NumberStyles.AllowHexSpecifier, null, out sequence);
    }

    public static bool TryParseSnapshotFileName(string name, out ulong index, out ulong term)
    {
        index = 0;
        term = 0;
        return name.Length == 33 + SnapshotExtension.Length && name.EndsWith(SnapshotExtension, StringComparison.Ordinal) && name[16] == '-'
            && ulong.TryParse(name.AsSpan(0, 16), System.Globalization.NumberStyles.AllowHexSpecifier, null, out index)
            && ulong.TryParse(name.AsSpan(17, 16), System.Globalization.NumberStyles.AllowHexSpecifier, null, out term);
    }
}
