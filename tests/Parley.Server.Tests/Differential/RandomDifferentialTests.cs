namespace Parley.Server.Tests.Differential;

/// <summary>
/// Seeded random sequences of mixed KV requests (puts, deletes, ranges with every option, txns with nested txns,
/// compactions) sent to real etcd 3.4 and to Parley, compared after every step. A failure names the seed and the step.
/// </summary>
public sealed class RandomDifferentialTests
{
    private const int StepsPerSeed = 1000;

    /// <summary>Seeds 4 and 7 found the ignore-flag put after a from-key delete in one txn (Parley crashed applying it).</summary>
    [EtcdTheory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(7)]
    public async Task RandomSequence_EveryStepMatchesEtcd(int seed)
    {
        using var pair = new DifferentialPair();
        var operations = new RandomOperations(seed);
        long compactRevision = 0;
        try
        {
            for (var step = 0; step < StepsPerSeed; step++)
            {
                compactRevision = await operations.StepAsync(pair, compactRevision);
            }
        }
        catch (Xunit.Sdk.XunitException exception)
        {
            throw new Xunit.Sdk.XunitException($"seed {seed}: {exception.Message}");
        }
        Assert.Equal(StepsPerSeed, pair.Steps);
        // The two keyspaces end equal, history included.
        for (var revision = Math.Max(1, compactRevision); revision <= pair.Revision; revision++)
        {
            await pair.RangeAsync(Requests.Get("\0", Requests.FromKey, revision: revision));
        }
    }
}
