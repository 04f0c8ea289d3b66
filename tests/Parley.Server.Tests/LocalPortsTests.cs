using System.Globalization;

namespace Parley.Server.Tests;

/// <summary><see cref="LocalPorts"/>: test assemblies run side by side and each chooses ports at random below the ephemeral range.</summary>
public class LocalPortsTests
{
    [Fact]
    public void PortsHandedOut_AreNotHandedOutAgain_AndAreClaimedForOtherProcesses()
    {
        // 300 of about 22,000 ports, twice: chosen at random alone, the two sets would share about four.
        var first = LocalPorts.Free(300);
        var second = LocalPorts.Free(300);
        Assert.Equal(300, first.Distinct().Count());
        Assert.Empty(first.Intersect(second));
        var claims = Path.Combine(Path.GetTempPath(), "parley-ports");
        Assert.All(first.Concat(second), port => Assert.True(File.Exists(Path.Combine(claims, port.ToString(CultureInfo.InvariantCulture))), $"port {port} has no claim file"));
    }
}
