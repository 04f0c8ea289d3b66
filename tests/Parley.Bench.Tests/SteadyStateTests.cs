using Parley.Bench.Comparison;

namespace Parley.Bench.Tests;

public sealed class SteadyStateTests
{
    [Fact]
    public void FallingCost_IsNotSteady_UntilItIsLevelTwoWindowsInARow()
    {
        var state = new SteadyState();
        Assert.False(state.Add(400e-6, null)); // the first window has nothing to compare with
        Assert.False(state.Add(370e-6, null)); // fell 7.5%: level once
        Assert.False(state.Add(250e-6, null)); // fell 32%: the count starts again
        Assert.False(state.Add(240e-6, null)); // level once
        Assert.True(state.Add(260e-6, null)); // rose: level twice
    }

    [Fact]
    public void BulkJitCompilation_IsNotLevel_EvenIfTheCostIs()
    {
        var state = new SteadyState();
        Assert.False(state.Add(400e-6, (8_000, 0)));
        Assert.False(state.Add(390e-6, (12_000, 8_000)));
        Assert.False(state.Add(385e-6, (1_000, 20_000))); // 5% more methods
        Assert.False(state.Add(250e-6, (200, 21_000))); // the step down the bulk compiled
        Assert.False(state.Add(245e-6, (150, 21_200))); // 0.7%: level once
        Assert.True(state.Add(250e-6, (100, 21_350)));
    }

    [Fact]
    public void AWindowWithoutOperations_TeachesNothing()
    {
        var state = new SteadyState();
        Assert.False(state.Add(300e-6, null));
        Assert.False(state.Add(295e-6, null)); // level once
        Assert.False(state.Add(double.NaN, null)); // the count starts again
        Assert.False(state.Add(295e-6, null));
        Assert.True(state.Add(290e-6, null));
    }

    [Fact]
    public async Task Plan_ChargesEachWindowTheCpuAndMethodsOfItsOwn()
    {
        var cpu = 10.0;
        var methods = 5_000.0;
        var state = new SteadyState();
        var plan = await state.PlanAsync(() => cpu, _ => Task.FromResult<double?>(methods), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(60), CancellationToken.None);
        (cpu, methods) = (cpu + 4.0, methods + 20_000); // 4 s over 10,000 operations: 400 µs each
        Assert.False(await plan.IsSteadyAsync(Window(10_000), CancellationToken.None));
        (cpu, methods) = (cpu + 2.0, methods + 100); // 200 µs each
        Assert.False(await plan.IsSteadyAsync(Window(10_000), CancellationToken.None));
        (cpu, methods) = (cpu + 1.9, methods + 100); // 190 µs each
        Assert.False(await plan.IsSteadyAsync(Window(10_000), CancellationToken.None));
        (cpu, methods) = (cpu + 3.8, methods + 50); // 190 µs each
        Assert.True(await plan.IsSteadyAsync(Window(20_000), CancellationToken.None));
        Assert.Equal(["400 µs/op JIT +20000", "200 µs/op JIT +100", "190 µs/op JIT +100", "190 µs/op JIT +50"], state.Windows);
    }

    [Fact]
    public async Task Plan_WithoutJitFigures_GoesByCpuAlone()
    {
        var cpu = 0.0;
        var state = new SteadyState();
        var plan = await state.PlanAsync(() => cpu, _ => Task.FromResult<double?>(null), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(60), CancellationToken.None);
        foreach (var (seconds, steady) in new[] { (3.0, false), (3.1, false), (2.9, true) })
        {
            cpu += seconds;
            Assert.Equal(steady, await plan.IsSteadyAsync(Window(10_000), CancellationToken.None));
        }
        Assert.Equal(["300 µs/op", "310 µs/op", "290 µs/op"], state.Windows);
    }

    private static BenchResult Window(long operations) => BenchResults.Result("put", 1, operations / 10.0, 1, 2);
}
