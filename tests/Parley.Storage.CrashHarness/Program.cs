using Parley.Raft;
using Parley.Storage;
using Parley.Storage.CrashHarness;

// Usage: Parley.Storage.CrashHarness <data-dir> <seed>
// Appends the deterministic workload through the real WAL until killed. Protocol on stdout, one line each, flushed:
//   "recovered <last-index>"  after opening;
//   "write <index>"           before the batch ending at <index> is handed to the WAL (nothing beyond it exists yet);
//   "durable <index>"         after Sync returned: every index up to here is on disk.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: Parley.Storage.CrashHarness <data-dir> <seed>");
    return 2;
}
var random = new Random(int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture));
var output = Console.Out;
using var storage = MemberStorage.Open(new RealFileSystem(), args[0], CrashWorkload.Identity, CrashWorkload.Options());
var last = storage.Recovered.LastIndex;
var lastSnapshot = storage.Recovered.Snapshot.Metadata.Index;
output.WriteLine($"recovered {last}");
output.Flush();
var batch = new List<Entry>();
while (true)
{
    batch.Clear();
    var count = random.Next(1, 65);
    for (var i = 0; i < count; i++)
    {
        batch.Add(CrashWorkload.EntryAt(last + 1 + (ulong)i));
    }
    var end = last + (ulong)count;
    output.WriteLine($"write {end}");
    output.Flush();
    storage.Append(new HardState(CrashWorkload.Term, 1, last), batch);
    storage.Sync();
    last = end;
    output.WriteLine($"durable {last}");
    output.Flush();
    if (last - lastSnapshot >= CrashWorkload.SnapshotEveryEntries)
    {
        storage.SaveSnapshot(CrashWorkload.SnapshotAt(last));
        lastSnapshot = last;
    }
}
