using Parley.Torture;

namespace Parley.Torture.Tests;

public sealed class NetnsNamesTests
{
    [Theory]
    [InlineData("parley-torture-4242-abc123-m1", 4242)]
    [InlineData("parley-torture-4242-probe-0", 4242)]
    [InlineData("parley_torture_17_abc123", 17)]
    [InlineData("parley-torture 31337 abc123", 31337)]
    public void Owner_IsReadFromEveryKindOfName(string name, int owner) => Assert.Equal(owner, NetnsNames.Owner(name));

    [Theory]
    [InlineData("parley-torture")]
    [InlineData("parley-torturex-12-abc")]
    [InlineData("docker0")]
    [InlineData("parley-torture-12abc-m1")]
    [InlineData("my_parley_torture_12_abc")]
    public void Owner_OfSomethingElse_IsNull(string name) => Assert.Null(NetnsNames.Owner(name));

    [Fact]
    public void Names_FitTheLinkNameLimit_AndCarryTheOwner()
    {
        Assert.True(NetnsNames.HostLink("abcdef", NetnsNames.SlotsMax - 1).Length <= 15);
        Assert.True(NetnsNames.Bridge("abcdef").Length <= 15);
        Assert.True(NetnsNames.DelayBridgePort("abcdef").Length <= 15);
        Assert.Equal(4194304, NetnsNames.Owner(NetnsNames.Namespace(4194304, "abcdef", "m12")));
        Assert.Equal(4194304, NetnsNames.Owner(NetnsNames.Table(4194304, "abcdef")));
        Assert.Equal(4194304, NetnsNames.Owner(NetnsNames.Alias(4194304, "abcdef")));
    }

    [Fact]
    public void ChooseSubnet_TakesTheStartingCandidate_WhenNothingOverlaps() =>
        Assert.Equal("10.100.5", NetnsNames.ChooseSubnet(["default", "192.0.2.0/24", "127.0.0.0/8", "127.0.0.1"], start: 5));

    [Fact]
    public void ChooseSubnet_SkipsCandidatesThatAnyRouteOrAddressOverlaps()
    {
        // 10.100.5.0/24 holds an address, 10.100.6.0/23 covers .6 and .7, a wider 10.100.8.0/22 covers .8 to .11.
        Assert.Equal("10.100.12", NetnsNames.ChooseSubnet(["10.100.5.77", "10.100.6.0/23", "10.100.8.0/22"], start: 5));
    }

    [Fact]
    public void ChooseSubnet_WrapsAround_AndGivesUpWhenEverythingIsTaken()
    {
        Assert.Equal("10.100.0", NetnsNames.ChooseSubnet(["10.254.255.0/24"], start: 155 * 256 - 1));
        Assert.Null(NetnsNames.ChooseSubnet(["10.0.0.0/8"], start: 0));
    }
}
