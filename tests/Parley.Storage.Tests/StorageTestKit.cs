using Parley.Raft;
using Parley.Storage;

namespace Parley.Storage.Tests;

internal static class StorageTestKit
{
    public const string DataDirectory = "/data/member-1";
    public const string WalDirectory = DataDirectory + "/wal";
    public const string SnapshotDirectory = DataDirectory + "/snap";

    public static readonly StorageIdentity Identity = new(0xABCD, 1);

    public static StorageOptions Options(long segmentSizeBytes = 64 * 1024, List<string>? fatalMessages = null) => new()
    {
        SegmentSizeBytes = segmentSizeBytes,
        SnapshotsRetained = 2,
        FatalHandler = message => fatalMessages?.Add(message),
    };

    /// <summary>Entry content is a function of its index (and a salt), never all-zero in any 512-byte piece.</summary>
    public static Entry EntryAt(ulong index, ulong term = 1, int dataBytes = 100, int salt = 0)
    {
        var data = new byte[dataBytes];
        new Random(unchecked((int)index * 7919 + salt)).NextBytes(data);
        for (var i = 0; i < data.Length; i++)
        {
            data[i] |= 1;
        }
        return new Entry(term, index, EntryType.Normal, data);
    }

    public static List<Entry> Entries(ulong first, ulong last, ulong term = 1, int dataBytes = 100, int salt = 0)
    {
        var entries = new List<Entry>();
        for (var index = first; index <= last; index++)
        {
            entries.Add(EntryAt(index, term, dataBytes, salt));
        }
        return entries;
    }

    public static MemberStorage Open(IFileSystem fileSystem, StorageOptions? options = null) =>
        MemberStorage.Open(fileSystem, DataDirectory, Identity, options ?? Options());

    public static void AssertSameEntries(IReadOnlyList<Entry> expected, IReadOnlyList<Entry> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Index, actual[i].Index);
            Assert.Equal(expected[i].Term, actual[i].Term);
            Assert.Equal(expected[i].Type, actual[i].Type);
            Assert.True(expected[i].Data.Span.SequenceEqual(actual[i].Data.Span), $"entry {expected[i].Index} content differs");
        }
    }

    public static List<string> Segments(IFileSystem fileSystem)
    {
        var segments = new List<string>();
        foreach (var name in fileSystem.ListFiles(WalDirectory))
        {
            if (name.EndsWith(StorageFormat.SegmentExtension, StringComparison.Ordinal))
            {
                segments.Add(WalDirectory + "/" + name);
            }
        }
        return segments;
    }
}
