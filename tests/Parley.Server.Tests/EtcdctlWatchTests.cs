using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Parley.Server.Tests;

/// <summary>`etcdctl watch` (3.4) against a real 3-member cluster: live, historical (--rev), --prefix, --prev-kv, compacted.</summary>
public sealed partial class EtcdctlWatchTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private static readonly TimeSpan OutputTimeout = TimeSpan.FromSeconds(20);

    private readonly LocalCluster _cluster = fixture.Cluster;

    [EtcdctlFact]
    public void Watch_Live_PrintsAPutMadeByAnotherProcess_ThroughAnotherMember()
    {
        var watchersBefore = Watchers(0);
        using var watch = new EtcdctlProcess(_cluster.Endpoint(0), "watch", "ew/live");
        LocalCluster.WaitUntil(() => Watchers(0) > watchersBefore, OutputTimeout, "the watcher registered on member 0");
        Ok(1, "put ew/live hello");
        Ok(2, "del ew/live");
        watch.WaitForOutput(output => output.Contains("DELETE", StringComparison.Ordinal), OutputTimeout, "put then delete");
        Assert.Equal("PUT\new/live\nhello\nDELETE\new/live\n\n", watch.Output);
    }

    [EtcdctlFact]
    public void Watch_Rev_ReplaysHistoryInOrder_ThenStaysLive()
    {
        var first = Revision(Ok(0, "put ew/hist v1 -w json"));
        Ok(1, "put ew/hist v2");
        Ok(2, "put ew/hist v3");
        using var watch = new EtcdctlProcess(_cluster.Endpoint(1), "watch", "ew/hist", "--rev", first.ToString(CultureInfo.InvariantCulture));
        watch.WaitForOutput(output => output.Contains("v3", StringComparison.Ordinal), OutputTimeout, "three replayed puts");
        Ok(0, "put ew/hist v4");
        watch.WaitForOutput(output => output.Contains("v4", StringComparison.Ordinal), OutputTimeout, "the live put after the replay");
        Assert.Equal("PUT\new/hist\nv1\nPUT\new/hist\nv2\nPUT\new/hist\nv3\nPUT\new/hist\nv4\n", watch.Output);
    }

    [EtcdctlFact]
    public void Watch_Prefix_SeesOnlyKeysUnderThePrefix()
    {
        var start = Revision(Ok(0, "get ew/any -w json")) + 1;
        using var watch = new EtcdctlProcess(_cluster.Endpoint(2), "watch", "ew/pfx/", "--prefix", "--rev", start.ToString(CultureInfo.InvariantCulture));
        Ok(0, "put ew/pfx/a 1");
        Ok(0, "put ew/pfxother 2");
        Ok(1, "put ew/pfx/b 3");
        watch.WaitForOutput(output => output.Contains("ew/pfx/b", StringComparison.Ordinal), OutputTimeout, "both keys under the prefix");
        Assert.Equal("PUT\new/pfx/a\n1\nPUT\new/pfx/b\n3\n", watch.Output);
    }

    [EtcdctlFact]
    public void Watch_PrevKv_PrintsThePreviousValueBeforeTheNewOne()
    {
        var created = Revision(Ok(0, "put ew/prev v1 -w json"));
        Ok(0, "put ew/prev v2");
        Ok(0, "del ew/prev");
        using var watch = new EtcdctlProcess(_cluster.Endpoint(0), "watch", "ew/prev", "--prev-kv", "--rev", created.ToString(CultureInfo.InvariantCulture));
        watch.WaitForOutput(output => output.Contains("DELETE", StringComparison.Ordinal), OutputTimeout, "put, overwrite, delete");
        // The creating put has no previous value; the overwrite and the delete print it first.
        Assert.Equal("PUT\new/prev\nv1\nPUT\new/prev\nv1\new/prev\nv2\nDELETE\new/prev\nv2\new/prev\n\n", watch.Output);
    }

    [EtcdctlFact]
    public void Watch_FromACompactedRevision_IsCanceled_WithEtcdsMessage()
    {
        var old = Revision(Ok(0, "put ew/cmp v1 -w json"));
        var compactAt = Revision(Ok(0, "put ew/cmp v2 -w json"));
        Ok(0, $"compaction {compactAt}");
        using var watch = new EtcdctlProcess(_cluster.Endpoint(1), "watch", "ew/cmp", "--rev", old.ToString(CultureInfo.InvariantCulture));
        var exitCode = watch.WaitForExit(OutputTimeout);
        Assert.NotEqual(0, exitCode);
        Assert.Contains("watch was canceled (etcdserver: mvcc: required revision has been compacted)", watch.Output + watch.Error, StringComparison.Ordinal);
    }

    private long Watchers(int member)
    {
        var match = WatcherTotal().Match(_cluster.Get(member, "/metrics").Body);
        return match.Success ? long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
    }

    private static long Revision(string json) => JsonDocument.Parse(json).RootElement.GetProperty("header").GetProperty("revision").GetInt64();

    private string Ok(int member, string arguments)
    {
        var (exitCode, output, error) = Etcdctl.Run(_cluster.Endpoint(member), arguments);
        Assert.True(exitCode == 0, $"etcdctl {arguments} on {_cluster.Endpoint(member)} failed: {error}");
        return output;
    }

    [GeneratedRegex(@"\netcd_debugging_mvcc_watcher_total (\d+)\n")]
    private static partial Regex WatcherTotal();
}
