using Parley.Torture;

namespace Parley.Torture.Tests;

/// <summary>What nftables rules each network fault becomes in netns mode (no root needed: the rules are text).</summary>
public sealed class NftRulesTests
{
    private const string Table = "parley_torture_4242_abc123";

    /// <summary>Three members m1..m3 at .10-.12; m4 (slot 3) was removed: its namespace and veth are gone.</summary>
    private static readonly NetnsLayout Layout = new(Table, "ptabc123dl",
    [
        new(0, "m1", "10.200.7.10", "ptabc123s0"),
        new(1, "m2", "10.200.7.11", "ptabc123s1"),
        new(2, "m3", "10.200.7.12", "ptabc123s2"),
        new(3, "m4", "10.200.7.13", null),
    ]);

    private const string Members = "{ 10.200.7.10, 10.200.7.11, 10.200.7.12, 10.200.7.13 }";

    private static string[] Rules(LinkFaultState state) =>
        [.. NftRules.Render(Layout, state).Split('\n').Select(line => line.Trim()).Where(line => line.Contains(" drop", StringComparison.Ordinal) || line.Contains(" fwd to ", StringComparison.Ordinal))];

    [Fact]
    public void NoFaults_ReplaceTheTablesWithAnEmptyChain_AndNoNetdevTable()
    {
        Assert.Equal(
            $$"""
            table bridge {{Table}}
            delete table bridge {{Table}}
            table bridge {{Table}} {
            	chain links {
            		type filter hook forward priority 0; policy accept;
            	}
            }
            table netdev {{Table}}
            delete table netdev {{Table}}

            """, NftRules.Render(Layout, LinkFaultState.None));
    }

    [Fact]
    public void PartitionHalves_DropsEveryPacketBothWays_BetweenTheSides()
    {
        // {m3} | {m1,m2}, as the nemesis blocks it: each pair in both directions.
        var state = LinkFaultState.None with { Blocked = [(0, 2), (2, 0), (1, 2), (2, 1)] };
        Assert.Equal(
        [
            "ip saddr 10.200.7.10 ip daddr 10.200.7.12 drop comment \"m1 -> m3 blocked\"",
            "ip saddr 10.200.7.12 ip daddr 10.200.7.10 drop comment \"m3 -> m1 blocked\"",
            "ip saddr 10.200.7.11 ip daddr 10.200.7.12 drop comment \"m2 -> m3 blocked\"",
            "ip saddr 10.200.7.12 ip daddr 10.200.7.11 drop comment \"m3 -> m2 blocked\"",
        ], Rules(state));
    }

    [Fact]
    public void AsymmetricPartition_DropsOneDirectionOnly()
    {
        var state = LinkFaultState.None with { Blocked = [(1, 0), (1, 2)] }; // m2's packets to everybody
        var rules = Rules(state);
        Assert.Equal(2, rules.Length);
        Assert.All(rules, rule => Assert.StartsWith("ip saddr 10.200.7.11 ip daddr ", rule, StringComparison.Ordinal));
        Assert.DoesNotContain(rules, rule => rule.Contains("ip daddr 10.200.7.11", StringComparison.Ordinal)); // m2 still hears everybody
    }

    [Fact]
    public void Loss_IsARandomDropOfThatPercentOfPacketsBetweenMembers()
    {
        var state = LinkFaultState.None with { LossRate = 0.174 };
        Assert.Equal([$"ip saddr {Members} ip daddr {Members} numgen random mod 100 < 17 drop comment \"loss 17%\""], Rules(state));
    }

    [Fact]
    public void Latency_SendsEachPresentMembersPacketsForMembersThroughTheDelayLine()
    {
        var state = LinkFaultState.None with { DelayMs = 120, JitterMs = 60 };
        var script = NftRules.Render(Layout, state);
        Assert.Contains($"table netdev {Table} {{\n\tchain m1 {{\n\t\ttype filter hook ingress device \"ptabc123s0\" priority 0; policy accept;\n", script, StringComparison.Ordinal);
        Assert.Equal(
        [
            $"ip daddr {Members} fwd to \"ptabc123dl\" comment \"m1 -> members: delay 120 ms + up to 60 ms\"",
            $"ip daddr {Members} fwd to \"ptabc123dl\" comment \"m2 -> members: delay 120 ms + up to 60 ms\"",
            $"ip daddr {Members} fwd to \"ptabc123dl\" comment \"m3 -> members: delay 120 ms + up to 60 ms\"",
        ], Rules(state)); // none for m4: its veth is gone
    }

    [Fact]
    public void CombinedFaults_AreOneScript_AndHealingRemovesEveryRule()
    {
        var faults = new LinkFaults(seed: 1);
        var changes = 0;
        faults.Changed += () => changes++;
        faults.Block([(0, 1), (1, 0)]);
        faults.SetLossRate(0.3);
        faults.SetDelay(50, 10);
        Assert.Equal(3, changes); // a partition is one change, applied as one transaction
        Assert.Equal(2 + 1 + 3, Rules(faults.State).Length);
        faults.HealAll();
        Assert.Empty(Rules(faults.State));
        Assert.DoesNotContain($"table netdev {Table} {{", NftRules.Render(Layout, faults.State), StringComparison.Ordinal);
    }

    [Fact]
    public void OverlappingPartitions_HealIndependently()
    {
        var faults = new LinkFaults(seed: 1);
        faults.Block([(0, 1), (1, 0)]);
        faults.Block([(0, 1)]); // an asymmetric partition on top
        faults.Unblock([(0, 1), (1, 0)]);
        Assert.Equal(["ip saddr 10.200.7.10 ip daddr 10.200.7.11 drop comment \"m1 -> m2 blocked\""], Rules(faults.State));
    }

    [Fact]
    public void Removal_DeletesBothTables_WhetherOrNotTheyExist()
    {
        Assert.Equal(
            $"table bridge {Table}\ndelete table bridge {Table}\ntable netdev {Table}\ndelete table netdev {Table}\n",
            NftRules.RenderRemoval(Table));
    }
}
