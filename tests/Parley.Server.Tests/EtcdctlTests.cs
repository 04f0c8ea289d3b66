using System.Net;
using System.Text.Json;

namespace Parley.Server.Tests;

/// <summary>Claims checked with the real etcdctl 3.4 against a real 3-member cluster of `parley serve` processes.</summary>
public class EtcdctlTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private readonly LocalCluster _cluster = fixture.Cluster;

    [Fact]
    public void Http_Health_Version_Readyz_Metrics_OnTheClientPort()
    {
        for (var member = 0; member < 3; member++)
        {
            var health = _cluster.Get(member, "/health");
            Assert.Equal(HttpStatusCode.OK, health.Status);
            Assert.Equal("{\"health\":\"true\"}", health.Body);
            Assert.Contains("\"etcdserver\":\"3.4.23\"", _cluster.Get(member, "/version").Body, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, _cluster.Get(member, "/livez").Status);
            Assert.Equal(HttpStatusCode.OK, _cluster.Get(member, "/readyz").Status);
            var metrics = _cluster.Get(member, "/metrics").Body;
            Assert.Contains("\netcd_server_has_leader 1\n", metrics, StringComparison.Ordinal);
            Assert.Contains("grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"Range\"", metrics, StringComparison.Ordinal);
        }
        Assert.NotNull(_cluster.Leader());
    }

    [EtcdctlFact]
    public void Metrics_CarryEtcdsFamilies_WithRealMeasurements_OnEveryMember()
    {
        var before = Enumerable.Range(0, 3).Select(member => PrometheusText.Parse(_cluster.Get(member, "/metrics").Body)).ToArray();
        for (var i = 0; i < 10; i++)
        {
            Ok(1, $"put metrics-{i} value-{i}");
        }
        var ids = before.Select(metrics => metrics.Find("etcd_server_id").Single().Labels["server_id"]).ToArray();
        Assert.Equal(3, ids.Distinct().Count());
        var scraped = new PrometheusText[3];
        LocalCluster.WaitUntil(() =>
        {
            for (var member = 0; member < 3; member++)
            {
                scraped[member] = PrometheusText.Parse(_cluster.Get(member, "/metrics").Body);
            }
            // every link pings once as soon as it connects, then every few seconds
            return Enumerable.Range(0, 3).All(member => ids.Where((_, other) => other != member).All(peer =>
                scraped[member].Find("etcd_network_peer_round_trip_time_seconds_count", ("To", peer)).Any(sample => sample.Value > 0)));
        }, TimeSpan.FromSeconds(15), "a round trip measured on every link");
        Assert.Equal(1, scraped.Sum(metrics => metrics.Value("etcd_server_is_leader")));
        for (var member = 0; member < 3; member++)
        {
            var metrics = scraped[member];
            Assert.Equal(1, metrics.Value("etcd_server_has_leader"));
            Assert.True(metrics.Value("etcd_server_leader_changes_seen_total") >= 1);
            var applied = metrics.Value("etcd_server_proposals_applied_total");
            Assert.True(metrics.Value("etcd_server_proposals_committed_total") >= applied && applied >= 10);
            Assert.True(metrics.Value("etcd_server_proposals_pending") >= 0);
            Assert.True(metrics.Value("etcd_server_proposals_failed_total") >= 0);
            Assert.True(metrics.Value("etcd_mvcc_db_total_size_in_bytes") > 0);
            var fsyncs = metrics.Histogram("etcd_disk_wal_fsync_duration_seconds", Bounds(0.001, 14));
            var fsyncsBefore = before[member].Histogram("etcd_disk_wal_fsync_duration_seconds", Bounds(0.001, 14));
            Assert.True(fsyncs - fsyncsBefore >= 10, $"member {member}: {fsyncs - fsyncsBefore} WAL fsyncs for 10 sequential puts");
            Assert.True(metrics.Value("etcd_disk_wal_fsync_duration_seconds_sum") > 0);
            Assert.True(metrics.Value("etcd_disk_wal_write_bytes_total") > before[member].Value("etcd_disk_wal_write_bytes_total"));
            var commits = metrics.Histogram("etcd_disk_backend_commit_duration_seconds", Bounds(0.001, 14));
            Assert.True(commits - before[member].Histogram("etcd_disk_backend_commit_duration_seconds", Bounds(0.001, 14)) >= 10);
            foreach (var peer in ids.Where((_, other) => other != member))
            {
                var roundTrips = metrics.Histogram("etcd_network_peer_round_trip_time_seconds", Bounds(0.0001, 16), ("To", peer));
                Assert.True(roundTrips > 0);
                Assert.InRange(metrics.Value("etcd_network_peer_round_trip_time_seconds_sum", ("To", peer)) / roundTrips, 1e-6, 1.0);
                Assert.True(metrics.Value("etcd_network_peer_sent_bytes_total", ("To", peer)) > 0);
                Assert.True(metrics.Value("etcd_network_peer_received_bytes_total", ("From", peer)) > 0);
            }
            Assert.Equal("counter", metrics.Types["etcd_network_peer_received_failures_total"]);
            Assert.Equal(0, metrics.Value("grpc_server_started_total", ("grpc_method", "MemberAdd"), ("grpc_type", "unary")));
            Assert.Equal(0, metrics.Value("grpc_server_handled_total", ("grpc_method", "Watch"), ("grpc_service", "grpc.health.v1.Health"), ("grpc_type", "server_stream"), ("grpc_code", "OK")));
            Assert.True(metrics.Value("process_resident_memory_bytes") > 0);
            Assert.True(metrics.Value("dotnet_jit_compiled_methods_total") >= Math.Max(100, before[member].Value("dotnet_jit_compiled_methods_total")));
            Assert.True(metrics.Value("dotnet_jit_compilation_time_seconds_total") > 0);
            Assert.True(metrics.Value("dotnet_gc_heap_total_allocated_bytes_total") > before[member].Value("dotnet_gc_heap_total_allocated_bytes_total"));
            Assert.Equal("counter", metrics.Types["dotnet_gc_collections_total"]);
            Assert.True(metrics.Value("dotnet_gc_collections_total", ("gc_heap_generation", "gen0")) >= 0);
        }
        Assert.True(scraped[1].Value("grpc_server_handled_total", ("grpc_method", "Put"), ("grpc_service", "etcdserverpb.KV"), ("grpc_type", "unary"), ("grpc_code", "OK")) >= 10);
        Assert.True(scraped[1].Value("grpc_server_started_total", ("grpc_method", "LeaseKeepAlive"), ("grpc_type", "bidi_stream")) >= 0);
    }

    private static double[] Bounds(double first, int count) => Enumerable.Range(0, count).Select(k => first * Math.Pow(2, k)).ToArray();

    [EtcdctlFact]
    public void Put_OnOneMember_IsReadLinearizably_OnEveryOther()
    {
        Assert.Equal("OK", Ok(0, "put k-put v1").Trim());
        for (var member = 0; member < 3; member++)
        {
            Assert.Equal("k-put\nv1\n", Ok(member, "get k-put"));
        }
        Ok(2, "put k-put v2");
        var json = JsonDocument.Parse(Ok(1, "get k-put -w json")).RootElement;
        var kv = json.GetProperty("kvs")[0];
        Assert.Equal("v2", System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(kv.GetProperty("value").GetString()!)));
        Assert.Equal(2, kv.GetProperty("version").GetInt64());
        Assert.Equal(kv.GetProperty("mod_revision").GetInt64(), json.GetProperty("header").GetProperty("revision").GetInt64());
        Assert.True(json.GetProperty("header").GetProperty("raft_term").GetInt64() >= 2);
        Assert.Equal("v2\n", Ok(2, "get k-put --consistency=s --print-value-only"));
    }

    [EtcdctlFact]
    public void Get_WithPrefix_Limit_Sort_KeysOnly_Count()
    {
        foreach (var key in new[] { "p/a", "p/b", "p/c", "q" })
        {
            Ok(0, $"put {key} value-{key}");
        }
        Assert.Equal("p/a\np/b\np/c\n", Ok(1, "get p/ --prefix --keys-only").Replace("\n\n", "\n", StringComparison.Ordinal));
        Assert.Equal("p/c\nvalue-p/c\n", Ok(1, "get p/ --prefix --limit 1 --order DESCEND"));
        var json = JsonDocument.Parse(Ok(2, "get p/ --prefix --limit 2 -w json")).RootElement;
        Assert.Equal(3, json.GetProperty("count").GetInt64());
        Assert.True(json.GetProperty("more").GetBoolean());
        Assert.Contains("p/a", Ok(0, "get p/a --from-key --keys-only"), StringComparison.Ordinal);
    }

    [EtcdctlFact]
    public void Del_And_Txn_FromStdin()
    {
        Ok(0, "put t/x 1");
        var txn = Ok(1, "txn", "value(\"t/x\") = \"1\"\n\nput t/y yes\nget t/x\n\nput t/y no\n\n");
        Assert.StartsWith("SUCCESS\n\nOK\n\nt/x\n1", txn, StringComparison.Ordinal);
        Assert.Equal("yes\n", Ok(2, "get t/y --print-value-only"));
        var failed = Ok(2, "txn", "value(\"t/x\") = \"2\"\n\nput t/y yes\n\nput t/y no\n\n");
        Assert.StartsWith("FAILURE", failed, StringComparison.Ordinal);
        Assert.Equal("no\n", Ok(0, "get t/y --print-value-only"));
        Assert.Equal("2\n", Ok(1, "del t/ --prefix"));
        Assert.Equal("", Ok(0, "get t/ --prefix"));
    }

    [EtcdctlFact]
    public void EndpointStatus_Cluster_ShowsThreeMembers_OneLeader_SameIndex()
    {
        Ok(0, "put status-key 1");
        var status = JsonDocument.Parse(Ok(0, "endpoint status --cluster -w json")).RootElement;
        Assert.Equal(3, status.GetArrayLength());
        var leaders = status.EnumerateArray().Select(entry => entry.GetProperty("Status").GetProperty("leader").GetUInt64()).Distinct().ToList();
        Assert.Single(leaders);
        Assert.Contains(status.EnumerateArray(), entry => entry.GetProperty("Status").GetProperty("header").GetProperty("member_id").GetUInt64() == leaders[0]);
        Assert.All(status.EnumerateArray(), entry => Assert.Equal("3.4.23", entry.GetProperty("Status").GetProperty("version").GetString()));
        var table = Ok(0, "endpoint status --cluster -w table");
        Assert.Contains("IS LEADER", table, StringComparison.Ordinal);
        Assert.Contains("true", table, StringComparison.Ordinal);
        var health = Etcdctl.Run(_cluster.Endpoints, "endpoint health --cluster");
        Assert.True(health.ExitCode == 0, health.Error);
        Assert.Equal(3, (health.Output + health.Error).Split('\n').Count(line => line.Contains("is healthy", StringComparison.Ordinal)));
    }

    [EtcdctlFact]
    public void MemberList_ShowsEveryMember_Started_WithNamesAndUrls()
    {
        var list = JsonDocument.Parse(Ok(1, "member list -w json")).RootElement;
        var members = list.GetProperty("members").EnumerateArray().ToList();
        Assert.Equal(3, members.Count);
        Assert.Equal(_cluster.Names, members.Select(member => member.GetProperty("name").GetString()).Order().ToArray());
        Assert.Equal(_cluster.ClientUrls.Order(), members.Select(member => Assert.Single(member.GetProperty("clientURLs").EnumerateArray()).GetString()).Order());
        var table = Ok(1, "member list -w table");
        Assert.Equal(3, table.Split('\n').Count(line => line.Contains("| started |", StringComparison.Ordinal)));
    }

    [EtcdctlFact]
    public void UrlEndpoints_Put_Get_OnEveryMember()
    {
        Assert.Equal("OK", Ok(_cluster.ClientUrls[0], "put url-key v1").Trim());
        foreach (var url in _cluster.ClientUrls)
        {
            Assert.Equal("url-key\nv1\n", Ok(url, "get url-key"));
        }
        Ok(_cluster.UrlEndpoints, "put url-key v2");
        Assert.Equal("v2\n", Ok(_cluster.UrlEndpoints, "get url-key --print-value-only"));
    }

    [EtcdctlFact]
    public void UrlEndpoints_EndpointStatusTable_Health_HashKV()
    {
        Ok(_cluster.UrlEndpoints, "put url-status 1");
        var table = Ok(_cluster.UrlEndpoints, "endpoint status -w table");
        foreach (var url in _cluster.ClientUrls)
        {
            Assert.Contains(table.Split('\n'), line => line.StartsWith("| " + url + " |", StringComparison.Ordinal) && line.Contains(" 3.4.23 |", StringComparison.Ordinal));
        }
        Assert.Single(table.Split('\n'), line => line.Contains("|      true |      false |", StringComparison.Ordinal)); // IS LEADER, IS LEARNER
        var health = Etcdctl.Run(_cluster.UrlEndpoints, "endpoint health");
        Assert.True(health.ExitCode == 0, health.Error);
        foreach (var url in _cluster.ClientUrls)
        {
            Assert.Contains(url + " is healthy", health.Output + health.Error, StringComparison.Ordinal);
        }
        foreach (var url in _cluster.ClientUrls)
        {
            Ok(url, "get url-status"); // a linearizable read: the member has applied the put before its hash is taken
        }
        var hashes = JsonDocument.Parse(Ok(_cluster.UrlEndpoints, "endpoint hashkv -w json")).RootElement.EnumerateArray().ToList();
        Assert.Equal(_cluster.ClientUrls.Order(), hashes.Select(entry => entry.GetProperty("Endpoint").GetString()).Order());
        Assert.Single(hashes.Select(entry => entry.GetProperty("HashKV").GetProperty("hash").GetUInt32()).Distinct());
    }

    [EtcdctlFact]
    public void UrlEndpoints_MemberList_ShowsUrlsWithScheme_AndClusterStatusDialsThem()
    {
        var list = JsonDocument.Parse(Ok(_cluster.ClientUrls[2], "member list -w json")).RootElement;
        var urls = list.GetProperty("members").EnumerateArray().SelectMany(member => member.GetProperty("clientURLs").EnumerateArray()).Select(url => url.GetString());
        Assert.Equal(_cluster.ClientUrls.Order(), urls.Order());
        Assert.Equal(3, Ok(_cluster.ClientUrls[2], "member list -w table").Split('\n').Count(line => line.Contains("| started |", StringComparison.Ordinal)));
        var (exitCode, table, error) = Etcdctl.Run(_cluster.ClientUrls[2], "endpoint status --cluster -w table");
        Assert.True(exitCode == 0, error);
        Assert.DoesNotContain("PROTOCOL_ERROR", error, StringComparison.Ordinal);
        foreach (var url in _cluster.ClientUrls)
        {
            Assert.Contains(table.Split('\n'), line => line.StartsWith("| " + url + " |", StringComparison.Ordinal) && line.Contains(" 3.4.23 |", StringComparison.Ordinal));
        }
    }

    [EtcdctlFact]
    public void HashKV_IsEqual_OnEveryMember()
    {
        Ok(0, "put hash-key 1");
        Ok(0, "get hash-key"); // linearizable read on every member below needs applied state; ReadIndex guarantees it
        var hashes = Enumerable.Range(0, 3).Select(member =>
        {
            Ok(member, "get hash-key");
            return JsonDocument.Parse(Ok(member, "endpoint hashkv -w json")).RootElement[0].GetProperty("HashKV").GetProperty("hash").GetUInt32();
        }).Distinct().ToList();
        Assert.Single(hashes);
    }

    [EtcdctlFact]
    public void Errors_CarryEtcdsStatusAndText()
    {
        var empty = Etcdctl.Run(_cluster.Endpoint(0), "put \"\" x");
        Assert.NotEqual(0, empty.ExitCode);
        Assert.Contains("etcdserver: key is not provided", empty.Error, StringComparison.Ordinal);
        var future = Etcdctl.Run(_cluster.Endpoint(1), "get anything --rev 999999");
        Assert.Contains("etcdserver: mvcc: required revision is a future revision", future.Error, StringComparison.Ordinal);
    }

    private string Ok(int member, string arguments, string? input = null)
    {
        var (exitCode, output, error) = Etcdctl.Run(_cluster.Endpoint(member), arguments, input);
        Assert.True(exitCode == 0, $"etcdctl {arguments} on {_cluster.Endpoint(member)} failed: {error}\nmember log:\n{_cluster.Log(member)}");
        return output;
    }

    private static string Ok(string endpoints, string arguments)
    {
        var (exitCode, output, error) = Etcdctl.Run(endpoints, arguments);
        Assert.True(exitCode == 0, $"etcdctl --endpoints={endpoints} {arguments} failed: {error}");
        return output;
    }
}
