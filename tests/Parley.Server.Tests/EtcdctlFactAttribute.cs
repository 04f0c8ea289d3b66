namespace Parley.Server.Tests;

/// <summary>A test that needs etcdctl 3.4 on PATH (Debian package etcd-client; .ci/run installs it). Skipped, saying so, only when it is absent.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class EtcdctlFactAttribute : FactAttribute
{
    public EtcdctlFactAttribute()
    {
        if (Etcdctl.Path is null)
        {
            Skip = "etcdctl is not installed (apt-get install -y etcd-client); CI installs it in .ci/run";
        }
    }
}
