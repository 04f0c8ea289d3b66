namespace Parley.Bench;

/// <summary>
/// An adaptive warm-up: windows of <see cref="Window"/> each, until <see cref="IsSteadyAsync"/> says so after a window
/// (or <see cref="Maximum"/> has passed). <see cref="IsSteadyAsync"/> sees every window's result in order.
/// </summary>
public sealed record WarmupPlan(TimeSpan Window, TimeSpan Maximum, Func<BenchResult, CancellationToken, Task<bool>> IsSteadyAsync);
