namespace Parley.Server.Tests;

/// <summary>A test that needs the etcd 3.4 server binary (Debian package etcd-server; .ci/run installs it). Skipped, saying so, only when it is absent.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class EtcdFactAttribute : FactAttribute
{
    public EtcdFactAttribute()
    {
        if (EtcdServer.BinaryPath is null)
        {
            Skip = "etcd is not installed (apt-get install -y etcd-server); CI installs it in .ci/run";
        }
    }
}

/// <summary>A theory that needs the etcd 3.4 server binary; see <see cref="EtcdFactAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class EtcdTheoryAttribute : TheoryAttribute
{
    public EtcdTheoryAttribute()
    {
        if (EtcdServer.BinaryPath is null)
        {
            Skip = "etcd is not installed (apt-get install -y etcd-server); CI installs it in .ci/run";
        }
    }
}
