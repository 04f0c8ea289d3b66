extern alias DotnetEtcd;

using DotnetEtcd::dotnet_etcd;
using Google.Protobuf;
using Grpc.Core;
using Api = DotnetEtcd::Etcdserverpb;

namespace Parley.Server.Tests;

/// <summary>
/// etcd v3 auth against real 3-member clusters: etcdctl 3.4 manages users, roles and permissions and gets etcd's
/// messages; dotnet-etcd authenticates and sends its token as `authorization`; the auth state survives snapshots
/// and a full restart. Each test has its own cluster (auth changes what every other test could do).
/// </summary>
public sealed class AuthTests
{
    private const string UserEmpty = "etcdserver: user name is empty";
    private const string Denied = "etcdserver: permission denied";
    private const string AuthFailed = "etcdserver: authentication failed, invalid user ID or password";

    [EtcdctlFact]
    public void Etcdctl_ManagesUsersRolesAndPermissions_AndEnforcesThem()
    {
        using var cluster = new LocalCluster(3);
        var ctl = new Ctl(cluster.Endpoints);

        ctl.Ok("user add root --new-user-password=rootpw", "User root created");
        ctl.Ok("user add alice --interactive=false", "User alice created", input: "alicepw\n");
        ctl.Fails("user add alice --new-user-password=x", "etcdserver: user name already exists");
        ctl.Ok("role add app", "Role app created");
        ctl.Ok("role grant-permission app readwrite app/ --prefix", "Role app updated");
        ctl.Ok("role grant-permission app read cfg", "Role app updated");
        ctl.Ok("role grant-permission app write w1 w5", "Role app updated");
        ctl.Fails("role grant-permission nobody read k", "etcdserver: role name not found");
        ctl.Ok("user grant-role alice app", "Role app is granted to user alice");
        ctl.Fails("user revoke-role alice other", "etcdserver: role is not granted to the user");
        ctl.Ok("put cfg one", "OK");
        ctl.Ok("auth enable", "Authentication Enabled"); // etcdctl adds the root role after "root user does not have root role"

        ctl.Fails("get foo", UserEmpty);
        ctl.Fails("put foo x", UserEmpty);
        ctl.Ok("--user root:rootpw put foo bar", "OK");
        ctl.Fails("--user alice:wrong get cfg", AuthFailed);
        ctl.Fails("--user nobody:pw get cfg", AuthFailed);
        ctl.Ok("--user alice:alicepw put app/x 1", "OK");
        ctl.Ok("--user alice:alicepw get app/ --prefix", "app/x\n1");
        ctl.Ok("--user alice:alicepw get cfg", "cfg\none");
        ctl.Fails("--user alice:alicepw put cfg two", Denied);
        ctl.Fails("--user alice:alicepw get foo", Denied);
        ctl.Fails("--user alice:alicepw put foo y", Denied);
        ctl.Fails("--user alice:alicepw get app --prefix", Denied);
        ctl.Ok("--user alice:alicepw put w3 v", "OK");
        ctl.Fails("--user alice:alicepw put w5 v", Denied);
        ctl.Fails("--user alice:alicepw del foo", Denied);
        ctl.Fails("--user alice:alicepw user list", Denied);
        ctl.Ok("--user root:rootpw get foo", "foo\nbar");

        // A watch on keys the caller may not read is created and canceled at once, with etcd's reason.
        var watch = Etcdctl.Run(cluster.Endpoints, "--user alice:alicepw watch foo");
        Assert.NotEqual(0, watch.ExitCode);
        Assert.Contains("watch was canceled (rpc error: code = PermissionDenied desc = etcdserver: permission denied)", watch.Output + watch.Error, StringComparison.Ordinal);
        Assert.Contains("Error: watch is canceled by the server", watch.Error, StringComparison.Ordinal);

        // Txn: every compare needs read, every op its permission, in both branches.
        ctl.Ok("--user alice:alicepw txn", "SUCCESS\n\nOK", input: "value(\"cfg\") = \"one\"\n\nput app/t yes\n\nget cfg\n\n");
        ctl.Fails("--user alice:alicepw txn", Denied, input: "value(\"foo\") = \"bar\"\n\nput app/t no\n\n\n");
        ctl.Fails("--user alice:alicepw txn", Denied, input: "value(\"cfg\") = \"one\"\n\nput app/t no\n\nput foo no\n\n");
        ctl.Ok("--user root:rootpw get app/t --print-value-only", "yes");

        ctl.Ok("--user root:rootpw user get alice", "User: alice\nRoles: app");
        ctl.Ok("--user root:rootpw role get app", "Role app\nKV Read:\n\t[app/, app0) (prefix app/)\n\tcfg\nKV Write:\n\t[app/, app0) (prefix app/)\n\t[w1, w5)");
        ctl.Ok("--user root:rootpw user list", "alice\nroot");
        ctl.Ok("--user root:rootpw role list", "app\nroot");

        // A new password ends the old one (and the tokens issued with it).
        ctl.Ok("--user root:rootpw user passwd alice --interactive=false", "Password updated", input: "newpw\n");
        ctl.Fails("--user alice:alicepw get cfg", AuthFailed);
        ctl.Ok("--user alice:newpw get cfg --print-value-only", "one");

        ctl.Ok("--user root:rootpw role revoke-permission app app/ --prefix", "Permission of range [app/, app0) is revoked from role app");
        ctl.Fails("--user alice:newpw put app/x 2", Denied);
        ctl.Fails("--user root:rootpw role revoke-permission app app/ --prefix", "etcdserver: permission is not granted to the role");
        ctl.Fails("--user root:rootpw user delete root", "etcdserver: invalid auth management");
        ctl.Fails("--user root:rootpw user revoke-role root root", "etcdserver: invalid auth management");

        ctl.Fails("--user alice:newpw auth disable", Denied);
        ctl.Ok("--user root:rootpw auth disable", "Authentication Disabled");
        ctl.Ok("get foo --print-value-only", "bar");
        ctl.Ok("put app/x 3", "OK");
    }

    [EtcdctlFact]
    public async Task AuthState_SurvivesSnapshotsAndAFullRestart_AndDotnetEtcdAuthenticates()
    {
        using var cluster = new LocalCluster(3, "--snapshot-count", "10");
        var ctl = new Ctl(cluster.Endpoints);
        ctl.Ok("user add root --new-user-password=rootpw", "User root created");
        ctl.Ok("user grant-role root root", "Role root is granted to user root");
        ctl.Ok("user add alice --new-user-password=alicepw", "User alice created");
        ctl.Ok("role add app", "Role app created");
        ctl.Ok("role grant-permission app readwrite app/ --prefix", "Role app updated");
        ctl.Ok("user grant-role alice app", "Role app is granted to user alice");
        ctl.Ok("auth enable", "Authentication Enabled");
        for (var i = 0; i < 25; i++)
        {
            ctl.Ok($"--user root:rootpw put key{i} v{i}", "OK");
        }
        for (var member = 0; member < 3; member++)
        {
            var snapshots = Path.Combine(cluster.DataDirectory(member), "snap");
            LocalCluster.WaitUntil(() => Directory.Exists(snapshots) && Directory.GetFiles(snapshots, "*.snap").Length > 0, TimeSpan.FromSeconds(30), $"a snapshot on member {member}");
            // each snapshot written in the background is timed, as etcd times its snapshot saves
            var saves = 0.0;
            LocalCluster.WaitUntil(() => (saves = PrometheusText.Parse(cluster.Get(member, "/metrics").Body).Value("etcd_debugging_snap_save_total_duration_seconds_count")) >= 1,
                TimeSpan.FromSeconds(10), $"a snapshot save timed on member {member}");
            Assert.True(PrometheusText.Parse(cluster.Get(member, "/metrics").Body).Value("etcd_debugging_snap_save_total_duration_seconds_sum") > 0, $"{saves} saves in no time");
        }

        for (var member = 0; member < 3; member++)
        {
            cluster.Kill(member);
        }
        for (var member = 0; member < 3; member++)
        {
            cluster.Start(member);
        }
        LocalCluster.WaitUntil(() => Enumerable.Range(0, 3).All(cluster.IsReady), TimeSpan.FromSeconds(60), "every member ready after the restart");

        ctl.Fails("get key1", UserEmpty);
        ctl.Ok("--user alice:alicepw put app/after-restart 1", "OK");
        ctl.Fails("--user alice:alicepw get key1", Denied);
        ctl.Fails("--user alice:wrong get app/after-restart", AuthFailed);
        ctl.Ok("--user root:rootpw get key24 --print-value-only", "v24");
        ctl.Ok("--user root:rootpw user list", "alice\nroot");

        // dotnet-etcd: an explicit Authenticate and the token as `authorization` metadata, through any member.
        using var anonymous = new EtcdClient(cluster.Endpoints);
        var token = (await anonymous.AuthenticateAsync(new Api.AuthenticateRequest { Name = "alice", Password = "alicepw" }, deadline: Deadline())).Token;
        Assert.Matches(@"^[A-Za-z]{16}\.\d+$", token);
        for (var member = 0; member < 3; member++)
        {
            using var single = new EtcdClient(cluster.ClientUrls[member]);
            var headers = new Metadata { { "authorization", token } };
            await single.PutAsync($"app/dotnet{member}", "yes", headers, Deadline());
            Assert.Equal("yes", (await single.GetValAsync($"app/dotnet{member}", headers, Deadline())));
            var denied = await Assert.ThrowsAsync<RpcException>(() => single.PutAsync("key1", "no", headers, Deadline()));
            Assert.Equal((StatusCode.PermissionDenied, Denied), (denied.StatusCode, denied.Status.Detail));
            var invalid = await Assert.ThrowsAsync<RpcException>(() => single.GetAsync("app/dotnet0", new Metadata { { "authorization", "bogus.1" } }, Deadline()));
            Assert.Equal((StatusCode.Unauthenticated, "etcdserver: invalid auth token"), (invalid.StatusCode, invalid.Status.Detail));
        }
        var wrong = await Assert.ThrowsAsync<RpcException>(() => anonymous.AuthenticateAsync(new Api.AuthenticateRequest { Name = "alice", Password = "x" }, deadline: Deadline()));
        Assert.Equal((StatusCode.InvalidArgument, AuthFailed), (wrong.StatusCode, wrong.Status.Detail));

        // The client's own credential handling (it authenticates and adds `authorization` to every call).
        using var root = new EtcdClient(cluster.Endpoints, "root", "rootpw");
        await root.PutAsync("dotnet/root", "r", deadline: Deadline());
        Assert.Equal("r", await root.GetValAsync("dotnet/root", deadline: Deadline()));
        var users = await root.UserListAsync(new Api.AuthUserListRequest(), deadline: Deadline());
        Assert.Equal(["alice", "root"], users.Users);
    }

    private static DateTime Deadline() => DateTime.UtcNow + TimeSpan.FromSeconds(20);

    /// <summary>etcdctl with claims on its output: success prints exactly this; failure's stderr ends with "Error: message".</summary>
    private sealed class Ctl(string endpoints)
    {
        public void Ok(string arguments, string expected, string? input = null)
        {
            var (code, output, error) = Etcdctl.Run(endpoints, arguments, input);
            Assert.True(code == 0, $"etcdctl {arguments} failed ({code}): {error}");
            Assert.Equal(expected, output.TrimEnd('\n'));
        }

        public void Fails(string arguments, string message, string? input = null)
        {
            var (code, output, error) = Etcdctl.Run(endpoints, arguments, input);
            Assert.True(code != 0, $"etcdctl {arguments} succeeded: {output}");
            Assert.True(error.Contains("Error: " + message, StringComparison.Ordinal), $"etcdctl {arguments}: no 'Error: {message}' in its stderr:\n{error}");
        }
    }
}
