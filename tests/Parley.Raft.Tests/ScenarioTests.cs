using Parley.Raft.Tests.Harness;

namespace Parley.Raft.Tests;

/// <summary>
/// Protocol steps as scripts: commands in, every Ready out (testdata/*.txt). After an intended change in the
/// core, regenerate with PARLEY_REWRITE_GOLDEN=1 and read the diff before committing it.
/// </summary>
public sealed class ScenarioTests
{
    [Theory]
    [InlineData("election.txt")]
    [InlineData("partition_heal.txt")]
    [InlineData("figure8.txt")]
    [InlineData("read_index_batching.txt")]
    public void Scenario_MatchesGoldenOutput(string fileName) => Scenario.Run(fileName);
}
