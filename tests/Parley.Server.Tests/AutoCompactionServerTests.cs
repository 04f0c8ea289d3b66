using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Etcdserverpb;

namespace Parley.Server.Tests;

/// <summary><c>parley serve --auto-compaction-retention</c> end to end: history older than the retention goes, as etcd's compactor drops it.</summary>
public class AutoCompactionServerTests
{
    [Fact]
    public async Task PeriodicRetention_CompactsHistoryOlderThanIt_AndKeepsTheRecent()
    {
        await using var member = await InProcessMember.StartAsync(new Dictionary<string, string> { ["auto-compaction-retention"] = "2s" });
        var key = ByteString.CopyFromUtf8("auto/k");
        var first = (await member.Kv.PutAsync(new PutRequest { Key = key, Value = ByteString.CopyFromUtf8("v1") })).Header.Revision;
        var clock = Stopwatch.StartNew();
        RpcException? refused = null;
        for (var round = 0; refused is null && clock.Elapsed < TimeSpan.FromSeconds(15); round++)
        {
            var latest = (await member.Kv.PutAsync(new PutRequest { Key = key, Value = ByteString.CopyFromUtf8("v" + round) })).Header.Revision;
            var recent = await member.Kv.RangeAsync(new RangeRequest { Key = key, Revision = latest });
            Assert.Equal("v" + round, recent.Kvs.Single().Value.ToStringUtf8()); // written just now: kept
            try
            {
                await member.Kv.RangeAsync(new RangeRequest { Key = key, Revision = first });
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the first revision is still readable 10 s on, with a 2 s retention");
            }
            catch (RpcException exception)
            {
                refused = exception;
            }
            await Task.Delay(100);
        }
        Assert.NotNull(refused);
        Assert.Equal(StatusCode.OutOfRange, refused.StatusCode);
        Assert.Equal("etcdserver: mvcc: required revision has been compacted", refused.Status.Detail);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.9), $"compacted after {clock.Elapsed.TotalSeconds:F1} s, inside the 2 s retention");
    }
}
