using System.Text.Json;
using System.Text.RegularExpressions;

namespace Parley.Server.Tests;

/// <summary>etcdctl 3.4 lease commands against a real 3-member cluster; every member answers every lease RPC.</summary>
public partial class EtcdctlLeaseTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private readonly LocalCluster _cluster = fixture.Cluster;

    [EtcdctlFact]
    public void Grant_Put_TimeToLive_WithKeys_List_Revoke_FromDifferentMembers()
    {
        var id = Grant(0, 60);
        Ok(1, $"put lease-a 1 --lease={id}");
        Ok(2, $"put lease-b 2 --lease={id}");
        var ttl = Ok(1, $"lease timetolive {id} --keys");
        var match = TimeToLiveLine().Match(ttl);
        Assert.True(match.Success, ttl);
        Assert.Equal(id, match.Groups[1].Value);
        Assert.Equal("60", match.Groups[2].Value);
        Assert.InRange(int.Parse(match.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture), 40, 60);
        Assert.Equal("[lease-a lease-b]", match.Groups[4].Value);
        Assert.Contains(id, Ok(2, "lease list"), StringComparison.Ordinal);
        Assert.Equal($"lease {id} revoked\n", Ok(2, $"lease revoke {id}"));
        Assert.Equal("", Ok(0, "get lease- --prefix"));
        Assert.Equal($"lease {id} already expired\n", Ok(0, $"lease timetolive {id}"));
        Assert.DoesNotContain(id, Ok(1, "lease list"), StringComparison.Ordinal);
        var again = Etcdctl.Run(_cluster.Endpoint(1), $"lease revoke {id}");
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("etcdserver: requested lease not found", again.Error, StringComparison.Ordinal);
    }

    [EtcdctlFact]
    public void Grant_RaisesSmallTtlToTheMinimum_RefusesHugeTtl_AndTakesAGivenIdOnce()
    {
        Assert.Matches(@"^lease [0-9a-f]{16} granted with TTL\(2s\)\n$", Ok(0, "lease grant 1"));
        var huge = Etcdctl.Run(_cluster.Endpoint(1), "lease grant 9000000001");
        Assert.Contains("etcdserver: too large lease TTL", huge.Error, StringComparison.Ordinal);
    }

    [EtcdctlFact]
    public void KeepAliveOnce_OnAFollower_AnswersTheGrantedTtl_AndUnknownLeaseIsNotFound()
    {
        var id = Grant(0, 30);
        for (var member = 0; member < 3; member++)
        {
            Assert.Equal($"lease {id} keepalived with TTL(30)\n", Ok(member, $"lease keep-alive --once {id}"));
        }
        var unknown = Etcdctl.Run(_cluster.Endpoint(1), "lease keep-alive --once 123456789abc");
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("requested lease not found", unknown.Error, StringComparison.Ordinal);
    }

    [EtcdctlFact]
    public void KeepAlive_KeepsAShortLeaseBeyondItsTtl_ThenItExpires_AndItsKeysGoInOneRevision()
    {
        // TTL 5: etcdctl calls take a while on a loaded machine; the keepalive starts before the TTL is half gone.
        var id = Grant(1, 5);
        using (var keepAlive = new EtcdctlProcess(_cluster.Endpoints, "lease", "keep-alive", id))
        {
            Ok(0, $"put expire-a 1 --lease={id}");
            Ok(0, $"put expire-b 1 --lease={id}");
            keepAlive.WaitForOutput(output => output.Contains($"lease {id} keepalived with TTL(5)", StringComparison.Ordinal), TimeSpan.FromSeconds(15), "a keepalive answer");
            Thread.Sleep(TimeSpan.FromSeconds(12)); // well past the TTL
            Assert.False(keepAlive.HasExited, keepAlive.Error);
            Assert.Contains("expire-a", Ok(2, "get expire- --prefix --keys-only"), StringComparison.Ordinal);
        }
        LocalCluster.WaitUntil(() => Ok(2, "get expire- --prefix --keys-only").Length == 0, TimeSpan.FromSeconds(20), "the lease to expire");
        // One revision deleted both keys: each was last live at the same revision.
        var deleted = DeleteRevisions();
        Assert.Single(deleted.Distinct());
        Assert.Equal(2, deleted.Count);
    }

    [EtcdctlFact]
    public void Lock_FromSeveralProcessesOnDifferentMembers_IsMutuallyExclusive()
    {
        var file = Path.Combine(Path.GetTempPath(), $"parley-lock-{Environment.ProcessId}-{Guid.NewGuid():N}.log");
        try
        {
            var holders = Enumerable.Range(0, 4).Select(i => new EtcdctlProcess(_cluster.Endpoint(i % 3),
                "lock", "ctl-lock", "--", "sh", "-c", $"echo start {i} >> {file}; sleep 0.3; echo end {i} >> {file}")).ToList();
            try
            {
                foreach (var holder in holders)
                {
                    Assert.Equal(0, holder.WaitForExit(TimeSpan.FromSeconds(90)));
                }
            }
            finally
            {
                holders.ForEach(holder => holder.Dispose());
            }
            var lines = File.ReadAllLines(file);
            Assert.Equal(8, lines.Length);
            for (var i = 0; i < lines.Length; i += 2)
            {
                // Each holder's start is followed by its own end: nobody ran inside someone else's critical section.
                Assert.StartsWith("start ", lines[i], StringComparison.Ordinal);
                Assert.Equal("end " + lines[i]["start ".Length..], lines[i + 1]);
            }
            Assert.Equal(4, lines.Where(line => line.StartsWith("start ", StringComparison.Ordinal)).Distinct().Count());
            Assert.Equal("", Ok(0, "get ctl-lock/ --prefix --keys-only")); // every holder unlocked
        }
        finally
        {
            File.Delete(file);
        }
    }

    [EtcdctlFact]
    public void Elect_Campaign_Observe_AndHandOverWhenTheLeaderResigns()
    {
        using var alice = new EtcdctlProcess(_cluster.Endpoint(0), "elect", "ctl-elect", "alice");
        alice.WaitForOutput(output => output.EndsWith("\nalice\n", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "alice elected");
        Assert.StartsWith("ctl-elect/", alice.Output, StringComparison.Ordinal);
        using var observer = new EtcdctlProcess(_cluster.Endpoint(1), "elect", "-l", "ctl-elect");
        observer.WaitForOutput(output => output.Contains("\nalice\n", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "the observer sees alice");
        using var bob = new EtcdctlProcess(_cluster.Endpoint(2), "elect", "ctl-elect", "bob");
        Thread.Sleep(TimeSpan.FromSeconds(1.5));
        Assert.DoesNotContain("bob", bob.Output, StringComparison.Ordinal);
        alice.Interrupt(); // etcdctl resigns on SIGINT
        bob.WaitForOutput(output => output.EndsWith("\nbob\n", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "bob elected after alice resigned");
        observer.WaitForOutput(output => output.Contains("\nbob\n", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "the observer sees bob");
        Assert.Equal("bob\n", Ok(0, "get ctl-elect/ --prefix --print-value-only"));
        bob.Interrupt();
    }

    /// <summary>The revision at which each key of the lease was deleted, from the keys' last live revisions.</summary>
    private List<long> DeleteRevisions()
    {
        var revisions = new List<long>();
        foreach (var key in new[] { "expire-a", "expire-b" })
        {
            // The key is live at revision r-1 and gone at r: search back from the current revision.
            var now = JsonDocument.Parse(Ok(0, "get expire-a -w json")).RootElement.GetProperty("header").GetProperty("revision").GetInt64();
            long deletedAt = -1;
            for (var revision = now; revision > 1 && deletedAt < 0; revision--)
            {
                var at = JsonDocument.Parse(Ok(0, $"get {key} --rev {revision - 1} -w json")).RootElement;
                if (at.TryGetProperty("kvs", out _))
                {
                    deletedAt = revision;
                }
            }
            revisions.Add(deletedAt);
        }
        return revisions;
    }

    private string Grant(int member, int ttlSeconds)
    {
        var output = Ok(member, $"lease grant {ttlSeconds}");
        var match = GrantLine().Match(output);
        Assert.True(match.Success, output);
        return match.Groups[1].Value;
    }

    private string Ok(int member, string arguments)
    {
        var (exitCode, output, error) = Etcdctl.Run(_cluster.Endpoint(member), arguments);
        Assert.True(exitCode == 0, $"etcdctl {arguments} on {_cluster.Endpoint(member)} failed: {error}\nmember log:\n{_cluster.Log(member)}");
        return output;
    }

    [GeneratedRegex(@"^lease ([0-9a-f]{16}) granted with TTL\((\d+)s\)")]
    private static partial Regex GrantLine();

    [GeneratedRegex(@"^lease ([0-9a-f]{16}) granted with TTL\((\d+)s\), remaining\((\d+)s\), attached keys\((\[.*\])\)")]
    private static partial Regex TimeToLiveLine();
}
