using Parley.Torture;

namespace Parley.Torture.Tests;

/// <summary>A test of netns mode: runs as root where network namespaces and nftables work (CI); skipped, saying why, elsewhere.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class NetnsFactAttribute : FactAttribute
{
    public NetnsFactAttribute()
    {
        if (!NetnsSupport.Probe.Usable)
        {
            Skip = "netns mode cannot run here (" + NetnsSupport.Probe.Reason + "); CI runs as root, where it does";
        }
    }
}
