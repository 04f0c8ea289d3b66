// How long a keyspace snapshot takes to capture (MvccStore.FreezeSnapshot, on the node loop in a member) and to
// serialize (FrozenSnapshot.WriteTo, on the snapshot thread), into a sink that only counts the bytes (no file, no
// checksum of the file). Publish it as the launcher publishes the CLI, to time the code a member runs:
//
//   dotnet publish bench/prof/SnapshotWrite -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o /tmp/sw
//   dotnet /tmp/sw/SnapshotWrite.dll [keys] [versions-per-key] [rounds]     (defaults 300000 3 8)
//
// DOTNET_ReadyToRun=0 in the environment runs the same program without its precompiled code (JIT only).
using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Parley.Mvcc;

var keys = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 300_000;
var versions = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
var rounds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 8;
if (keys < 1 || versions < 1 || rounds < 1)
{
    Console.Error.WriteLine("usage: SnapshotWrite [keys >= 1] [versions-per-key >= 1] [rounds >= 1]");
    return 2;
}
var store = new MvccStore();
var value = new byte[256];
new Random(1).NextBytes(value);
for (var version = 0; version < versions; version++)
{
    for (var i = 0; i < keys; i++)
    {
        var put = store.Put(new PutRequest { Key = Encoding.ASCII.GetBytes($"key{i:D8}"), Value = value });
        if (!put.IsSuccess)
        {
            Console.Error.WriteLine($"put failed: {put.ErrorMessage}");
            return 1;
        }
    }
}
var sink = new CountingSink();
for (var round = 1; round <= rounds; round++)
{
    var started = Stopwatch.GetTimestamp();
    var frozen = store.FreezeSnapshot();
    var frozenAt = Stopwatch.GetTimestamp();
    sink.Written = 0;
    frozen.WriteTo(sink);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"round {round}: freeze {Stopwatch.GetElapsedTime(started, frozenAt).TotalMilliseconds:F1} ms, write {Stopwatch.GetElapsedTime(frozenAt).TotalMilliseconds:F0} ms, {sink.Written / 1e6:F0} MB"));
}
return 0;

/// <summary>Hands out the same buffer again and again; counts what was written into it.</summary>
internal sealed class CountingSink : IBufferWriter<byte>
{
    private readonly byte[] _buffer = new byte[1 << 20];

    public long Written { get; set; }

    public void Advance(int count) => Written += count;

    public Memory<byte> GetMemory(int sizeHint = 0) => _buffer;

    public Span<byte> GetSpan(int sizeHint = 0) => _buffer;
}
