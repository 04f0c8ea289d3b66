namespace Parley.Server.Tests;

public class OptionsTests
{
    [Fact]
    public void NoFlags_OneMemberOnLoopback2379_DataInDefaultDotParley()
    {
        var options = ServerOptionsBuilder.Build(new Dictionary<string, string>());
        Assert.Equal("default", options.Name);
        Assert.Equal("default.parley", options.DataDirectory);
        Assert.Equal("http://127.0.0.1:2379/", options.ListenClientUrls.Single().ToString());
        Assert.Equal("http://127.0.0.1:2380/", options.ListenPeerUrls.Single().ToString());
    }

    [Fact]
    public void FlagsWin_OverEnvironment_OverConfigFile()
    {
        var merged = ServerOptionsBuilder.Merge(
            new Dictionary<string, string> { ["name"] = "flag" },
            new Dictionary<string, string> { ["name"] = "env", ["heartbeat-interval"] = "50" },
            new Dictionary<string, string> { ["name"] = "file", ["heartbeat-interval"] = "70", ["election-timeout"] = "700" });
        Assert.Equal("flag", merged["name"]);
        Assert.Equal("50", merged["heartbeat-interval"]);
        Assert.Equal("700", merged["election-timeout"]);
        Assert.Equal("PARLEY_INITIAL_CLUSTER_TOKEN", ServerOptionsBuilder.EnvironmentVariable("initial-cluster-token"));
    }

    [Theory]
    [InlineData("initial-cluster-state", "maybe", "--initial-cluster-state")]
    [InlineData("election-timeout", "300", "--election-timeout (300 ms) must be at least 5 times --heartbeat-interval (100 ms)")]
    [InlineData("listen-client-urls", "127.0.0.1:2379", "--listen-client-urls: '127.0.0.1:2379' is not a URL")]
    [InlineData("initial-cluster", "other=http://127.0.0.1:2380", "--initial-cluster has no member named 'default'")]
    [InlineData("log-format", "xml", "--log-format")]
    [InlineData("snapshot-count", "lots", "--snapshot-count: 'lots' is not a whole number")]
    [InlineData("experimental-wal-sync-off-loop", "yes", "--experimental-wal-sync-off-loop: 'yes' is not true or false")]
    [InlineData("experimental-idle-turns-on-callers", "no", "--experimental-idle-turns-on-callers: 'no' is not true or false")]
    [InlineData("auto-compaction-mode", "hourly", "--auto-compaction-mode: 'hourly' is neither 'periodic' nor 'revision'")]
    [InlineData("auto-compaction-retention", "soon", "--auto-compaction-retention: 'soon' is neither a whole number of hours nor a duration")]
    [InlineData("auto-compaction-retention", "-1", "--auto-compaction-retention: '-1'")]
    public void WrongOrConflictingFlags_SayWhichAndWhy(string flag, string value, string expected)
    {
        var exception = Assert.Throws<ServerOptionsException>(() => ServerOptionsBuilder.Build(new Dictionary<string, string> { [flag] = value }));
        Assert.Contains(expected, exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, null, 0, 0)] // etcd's default: off
    [InlineData("periodic", "0", 0, 0)]
    [InlineData(null, "1", 3_600, 0)] // a whole number is hours in the periodic mode
    [InlineData("periodic", "30m", 1_800, 0)]
    [InlineData("periodic", "1h30m", 5_400, 0)]
    [InlineData("revision", "1000", 0, 1_000)]
    [InlineData("revision", "0", 0, 0)]
    public void AutoCompaction_ReadAsEtcdReadsIt(string? mode, string? retention, int periodSeconds, long revisions)
    {
        var flags = new Dictionary<string, string>();
        if (mode is not null)
        {
            flags["auto-compaction-mode"] = mode;
        }
        if (retention is not null)
        {
            flags["auto-compaction-retention"] = retention;
        }
        var options = ServerOptionsBuilder.Build(flags);
        Assert.Equal(mode ?? "periodic", options.AutoCompactionMode);
        Assert.Equal(TimeSpan.FromSeconds(periodSeconds), options.AutoCompactionPeriod);
        Assert.Equal(revisions, options.AutoCompactionRevisions);
    }

    [Fact]
    public void AutoCompaction_RevisionModeTakesOnlyANumberOfRevisions()
    {
        var exception = Assert.Throws<ServerOptionsException>(() => ServerOptionsBuilder.Build(
            new Dictionary<string, string> { ["auto-compaction-mode"] = "revision", ["auto-compaction-retention"] = "1h" }));
        Assert.Equal("--auto-compaction-retention: '1h' is not a whole number of revisions (the mode is 'revision')", exception.Message);
    }

    [Fact]
    public void ConfigFile_FlatYaml_IsRead_AndUnknownKeysRefused()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "# member\nname: 'm1'\nheartbeat-interval: 50 # ms\ninitial-cluster-token: tok\n");
            var values = ServerOptionsBuilder.ReadConfigFile(path);
            Assert.Equal("m1", values["name"]);
            Assert.Equal("50", values["heartbeat-interval"]);
            File.WriteAllText(path, "nmae: m1\n");
            var exception = Assert.Throws<ServerOptionsException>(() => ServerOptionsBuilder.ReadConfigFile(path));
            Assert.Contains("unknown setting 'nmae'", exception.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void MemberIds_AreStable_AndDifferPerPeerUrl()
    {
        var a = MemberIdentity.MemberId([new Uri("http://127.0.0.1:2380")], "t");
        Assert.Equal(a, MemberIdentity.MemberId([new Uri("http://127.0.0.1:2380/")], "t"));
        Assert.NotEqual(a, MemberIdentity.MemberId([new Uri("http://127.0.0.1:2381")], "t"));
        Assert.NotEqual(a, MemberIdentity.MemberId([new Uri("http://127.0.0.1:2380")], "u"));
    }
}
