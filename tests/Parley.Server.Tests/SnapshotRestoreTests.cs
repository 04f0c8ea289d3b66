using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Parley.Server.Backup;
using EtcdPb = Etcdserverpb;

namespace Parley.Server.Tests;

/// <summary>
/// Backups end to end (issue 6): Maintenance.Snapshot as etcdctl snapshot save receives it, `parley snapshot status`,
/// and `parley snapshot restore` into new data directories that start a cluster holding every key, revision, lease and
/// user of the original; damaged files and occupied directories are refused with a reason.
/// </summary>
public sealed class SnapshotRestoreTests
{
    [Fact]
    public async Task SnapshotRpc_RestoredIntoANewMember_ServesTheSameKeysRevisionsAndLeases()
    {
        var root = TemporaryDirectory();
        var file = Path.Combine(root, "backup.snap");
        EtcdPb.RangeResponse before;
        long leaseId;
        uint hash;
        await using (var source = await InProcessMember.StartAsync())
        {
            var lease = new EtcdPb.Lease.LeaseClient(source.Channel);
            leaseId = (await lease.LeaseGrantAsync(new EtcdPb.LeaseGrantRequest { TTL = 600 }, InProcessMember.Deadline())).ID;
            await source.PutAsync("a", "1");
            await source.PutAsync("a", "2");
            await source.PutAsync("b", "3");
            await source.PutAsync("gone", "x");
            await source.DeleteAsync("gone");
            await source.Kv.PutAsync(new EtcdPb.PutRequest { Key = ByteString.CopyFromUtf8("leased"), Value = ByteString.CopyFromUtf8("v"), Lease = leaseId }, InProcessMember.Deadline());
            before = await source.Kv.RangeAsync(new EtcdPb.RangeRequest { Key = ByteString.CopyFrom(0), RangeEnd = ByteString.CopyFrom(0) }, InProcessMember.Deadline());
            var maintenance = new EtcdPb.Maintenance.MaintenanceClient(source.Channel);
            hash = (await maintenance.HashKVAsync(new EtcdPb.HashKVRequest(), InProcessMember.Deadline())).Hash;

            var responses = new List<EtcdPb.SnapshotResponse>();
            using (var call = maintenance.Snapshot(new EtcdPb.SnapshotRequest(), InProcessMember.Deadline()))
            {
                await foreach (var response in call.ResponseStream.ReadAllAsync())
                {
                    responses.Add(response);
                }
            }
            Assert.Equal(32, responses[^1].Blob.Length);
            Assert.All(responses, response => Assert.Null(response.Header));
            var bytes = responses.SelectMany(response => response.Blob.ToByteArray()).ToArray();
            Assert.Equal(32, bytes.Length % 512);
            await File.WriteAllBytesAsync(file, bytes);
        }

        var status = SnapshotStatus.Read(file);
        Assert.Equal(before.Header.Revision, status.Revision);
        Assert.Equal(3, status.TotalKeys);
        Assert.Equal(hash, status.Hash);

        await using var restored = await InProcessMember.StartAsync(beforeStart: options => SnapshotRestore.Restore(file, options, skipHashCheck: false));
        var after = await restored.Kv.RangeAsync(new EtcdPb.RangeRequest { Key = ByteString.CopyFrom(0), RangeEnd = ByteString.CopyFrom(0) }, InProcessMember.Deadline());
        Assert.Equal(before.Kvs, after.Kvs);
        Assert.Equal(before.Header.Revision, after.Header.Revision);
        var timeToLive = await new EtcdPb.Lease.LeaseClient(restored.Channel).LeaseTimeToLiveAsync(
            new EtcdPb.LeaseTimeToLiveRequest { ID = leaseId, Keys = true }, InProcessMember.Deadline());
        Assert.InRange(timeToLive.TTL, 1, 601); // a new leader adds one election timeout (1 s), as etcd's does
        Assert.Equal("leased", Assert.Single(timeToLive.Keys).ToStringUtf8());
        Assert.Equal(before.Header.Revision + 1, await restored.PutAsync("after-restore", "ok"));
        TryDelete(root);
    }

    [Fact]
    public async Task Restore_RefusesCorruptAndTruncatedFiles_AndOccupiedDirectories_SayingWhy()
    {
        var root = TemporaryDirectory();
        var file = Path.Combine(root, "backup.snap");
        await using (var source = await InProcessMember.StartAsync())
        {
            for (var i = 0; i < 50; i++)
            {
                await source.PutAsync($"key/{i}", new string('v', 100));
            }
            await File.WriteAllBytesAsync(file, await SnapshotBytesAsync(source));
        }
        var good = await File.ReadAllBytesAsync(file);

        var corrupt = Path.Combine(root, "corrupt.snap");
        var flipped = good.ToArray();
        flipped[good.Length / 2] ^= 0x01;
        await File.WriteAllBytesAsync(corrupt, flipped);
        var refused = ParleyCli.Run("snapshot", "restore", corrupt, "--data-dir", Path.Combine(root, "d1"));
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("SHA-256 trailer does not match its contents: the file is corrupt", refused.Error, StringComparison.Ordinal);
        refused = ParleyCli.Run("snapshot", "restore", corrupt, "--data-dir", Path.Combine(root, "d1"), "--skip-hash-check");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("checksum does not match its contents: the file is corrupt", refused.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(root, "d1")));

        var truncated = Path.Combine(root, "truncated.snap");
        await File.WriteAllBytesAsync(truncated, good[..(good.Length - 1000)]);
        refused = ParleyCli.Run("snapshot", "restore", truncated, "--data-dir", Path.Combine(root, "d1"));
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("truncated", refused.Error, StringComparison.Ordinal);
        Assert.Equal(1, ParleyCli.Run("snapshot", "status", truncated).ExitCode);

        var occupied = Path.Combine(root, "occupied");
        Directory.CreateDirectory(occupied);
        await File.WriteAllTextAsync(Path.Combine(occupied, "notes.txt"), "mine");
        refused = ParleyCli.Run("snapshot", "restore", file, "--data-dir", occupied);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("exists and is not empty", refused.Error, StringComparison.Ordinal);
        Assert.Equal(["notes.txt"], Directory.EnumerateFileSystemEntries(occupied).Select(Path.GetFileName));

        var empty = Path.Combine(root, "empty");
        Directory.CreateDirectory(empty);
        var restored = ParleyCli.Run("snapshot", "restore", file, "--name", "n1", "--initial-cluster", "n1=http://127.0.0.1:2380", "--data-dir", empty);
        Assert.True(restored.ExitCode == 0, restored.Error);
        Assert.Contains("(revision 51, 50 keys)", restored.Output, StringComparison.Ordinal);
        refused = ParleyCli.Run("snapshot", "restore", file, "--name", "n1", "--initial-cluster", "n1=http://127.0.0.1:2380", "--data-dir", empty);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("exists and is not empty", refused.Error, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(root, ".*restoring*"));
        TryDelete(root);
    }

    [EtcdctlFact]
    public void EtcdctlSnapshotSave_FromThreeMembers_RestoresIntoANewThreeMemberCluster_WithEveryKeyRevisionLeaseAndUser()
    {
        var root = TemporaryDirectory();
        var file = Path.Combine(root, "backup.db");
        string keysJson;
        long revision;
        long hash;
        string leaseHex;
        using (var source = new LocalCluster(3))
        {
            Ok(source, 0, "put a 1");
            Ok(source, 1, "put a 2");
            Ok(source, 2, "put b 3");
            Ok(source, 0, "put gone x");
            Ok(source, 1, "del gone");
            leaseHex = Ok(source, 2, "lease grant 600").Split(' ')[1];
            Ok(source, 0, $"put leased v --lease={leaseHex}");
            Ok(source, 1, "user add alice:secret");
            Ok(source, 2, "role add reader");
            var all = JsonDocument.Parse(Ok(source, 0, "get \"\" --prefix -w json")).RootElement;
            keysJson = all.GetProperty("kvs").GetRawText();
            revision = all.GetProperty("header").GetProperty("revision").GetInt64();
            hash = HashKV(source, 0);

            var saved = Etcdctl.Run(source.Endpoint(1), $"snapshot save {file}");
            Assert.True(saved.ExitCode == 0, saved.Output + saved.Error);
            Assert.Contains("Snapshot saved at", saved.Output + saved.Error, StringComparison.Ordinal);
        }
        Assert.Equal(32, new FileInfo(file).Length % 512);

        var status = ParleyCli.Run("snapshot", "status", file, "-w", "json");
        Assert.True(status.ExitCode == 0, status.Error);
        var statusJson = JsonDocument.Parse(status.Output).RootElement;
        Assert.Equal(revision, statusJson.GetProperty("revision").GetInt64());
        Assert.Equal(3, statusJson.GetProperty("totalKey").GetInt64());
        Assert.Equal(hash, statusJson.GetProperty("hash").GetInt64());
        Assert.Equal(new FileInfo(file).Length - 32, statusJson.GetProperty("totalSize").GetInt64());
        var table = ParleyCli.Run("snapshot", "status", file, "--write-out", "table");
        Assert.Contains("| REVISION | TOTAL KEYS | TOTAL SIZE |", table.Output, StringComparison.Ordinal);

        using var restored = new LocalCluster(3, cluster =>
        {
            for (var member = 0; member < 3; member++)
            {
                var result = ParleyCli.Run(
                    "snapshot", "restore", file, "--name", cluster.Names[member], "--initial-cluster", cluster.InitialCluster,
                    "--initial-cluster-token", LocalCluster.ClusterToken, "--initial-advertise-peer-urls", cluster.PeerUrls[member],
                    "--data-dir", cluster.DataDirectory(member));
                Assert.True(result.ExitCode == 0, result.Output + result.Error);
            }
        });
        for (var member = 0; member < 3; member++)
        {
            var all = JsonDocument.Parse(Ok(restored, member, "get \"\" --prefix -w json")).RootElement;
            Assert.Equal(keysJson, all.GetProperty("kvs").GetRawText());
            Assert.Equal(revision, all.GetProperty("header").GetProperty("revision").GetInt64());
            Assert.Equal(hash, HashKV(restored, member));
        }
        var timeToLive = Ok(restored, 1, $"lease timetolive {leaseHex} --keys");
        Assert.Contains("attached keys([leased])", timeToLive, StringComparison.Ordinal);
        Assert.DoesNotContain("already expired", timeToLive, StringComparison.Ordinal);
        Assert.Contains("alice", Ok(restored, 2, "user list"), StringComparison.Ordinal);
        Assert.Contains("reader", Ok(restored, 0, "role list"), StringComparison.Ordinal);

        Ok(restored, 2, "put after-restore yes");
        var written = JsonDocument.Parse(Ok(restored, 0, "get after-restore -w json")).RootElement;
        Assert.Equal(revision + 1, written.GetProperty("kvs")[0].GetProperty("mod_revision").GetInt64());
        Assert.Equal(3, Ok(restored, 0, "member list").Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(line => line.Contains(", started, ", StringComparison.Ordinal)));

        restored.Kill(0); // a restored member restarts from its own data directory
        restored.Start(0);
        LocalCluster.WaitUntil(() => restored.IsReady(0), TimeSpan.FromSeconds(30), "restarted member ready");
        Assert.Equal("yes\n", Ok(restored, 0, "get after-restore --print-value-only"));
        Assert.Equal("2\n", Ok(restored, 0, "get a --print-value-only"));
        TryDelete(root);
    }

    [EtcdctlFact]
    public void SnapshotSave_WithAuthEnabled_IsForRootOnly()
    {
        var root = TemporaryDirectory();
        using var cluster = new LocalCluster(1);
        Ok(cluster, 0, "user add root --new-user-password=rootpw");
        Ok(cluster, 0, "user add alice --new-user-password=alicepw");
        Ok(cluster, 0, "put k v");
        Ok(cluster, 0, "auth enable");

        var denied = Etcdctl.Run(cluster.Endpoint(0), $"--user alice:alicepw snapshot save {Path.Combine(root, "alice.db")}");
        Assert.NotEqual(0, denied.ExitCode);
        Assert.Contains("etcdserver: permission denied", denied.Error, StringComparison.Ordinal);
        var anonymous = Etcdctl.Run(cluster.Endpoint(0), $"snapshot save {Path.Combine(root, "anonymous.db")}");
        Assert.NotEqual(0, anonymous.ExitCode);
        Assert.Contains("etcdserver: user name is empty", anonymous.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(root, "alice.db")));

        Ok(cluster, 0, $"--user root:rootpw snapshot save {Path.Combine(root, "root.db")}");
        var status = ParleyCli.Run("snapshot", "status", Path.Combine(root, "root.db"));
        Assert.True(status.ExitCode == 0, status.Error);
        Assert.Matches(@"^[0-9a-f]+, \d+, 1, \d+ (B|kB)\n$", status.Output);
        TryDelete(root);
    }

    private static async Task<byte[]> SnapshotBytesAsync(InProcessMember member)
    {
        var maintenance = new EtcdPb.Maintenance.MaintenanceClient(member.Channel);
        using var call = maintenance.Snapshot(new EtcdPb.SnapshotRequest(), InProcessMember.Deadline());
        var bytes = new List<byte>();
        await foreach (var response in call.ResponseStream.ReadAllAsync())
        {
            bytes.AddRange(response.Blob);
        }
        return [.. bytes];
    }

    private static string Ok(LocalCluster cluster, int member, string arguments)
    {
        var (exitCode, output, error) = Etcdctl.Run(cluster.Endpoint(member), arguments);
        Assert.True(exitCode == 0, $"etcdctl {arguments}: {error}");
        return output;
    }

    private static long HashKV(LocalCluster cluster, int member) =>
        JsonDocument.Parse(Ok(cluster, member, "endpoint hashkv -w json")).RootElement[0].GetProperty("HashKV").GetProperty("hash").GetInt64();

    private static string TemporaryDirectory()
    {
        var root = Path.Combine(Path.GetTempPath(), "parley-snapshot-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        return root;
    }

    private static void TryDelete(string root)
    {
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
            // leave it for the OS temp cleaner
        }
    }
}
