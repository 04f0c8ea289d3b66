using Parley.Raft;
using Parley.Storage;

namespace Parley.Storage.CrashHarness;

/// <summary>
/// The deterministic workload shared by the harness (which writes it) and the crash test (which checks it):
/// every entry's content, and every snapshot's content, is a function of its index alone, so anything recovered
/// can be checked byte for byte and anything never written cannot pass.
/// </summary>
public static class CrashWorkload
{
    public static readonly StorageIdentity Identity = new(0xC1A5_7E50, 0x3);

    public const ulong Term = 1;

    public static StorageOptions Options(Action<string>? fatal = null) => new()
    {
        SegmentSizeBytes = 256 * 1024, // small, so that a run crosses many segment rollovers and releases
        SnapshotsRetained = 2,
        FatalHandler = fatal ?? (message => Environment.FailFast(message)),
    };

    public const ulong SnapshotEveryEntries = 1500;

    public static Entry EntryAt(ulong index) => new(Term, index, EntryType.Normal, DataAt(index));

    public static byte[] DataAt(ulong index)
    {
        var random = new Random(unchecked((int)(index * 2654435761UL)));
        var data = new byte[1 + random.Next(2000)];
        random.NextBytes(data);
        return data;
    }

    public static Snapshot SnapshotAt(ulong index) =>
        new(new SnapshotMetadata(index, Term, new ConfigState([1, 2, 3], [])), System.Text.Encoding.UTF8.GetBytes($"state machine up to {index}"));
}
