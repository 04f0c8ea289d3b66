namespace Parley.Checker.Tests;

/// <summary>A call/return interval placed around a chosen linearization point.</summary>
internal readonly record struct GeneratedInterval(int ClientId, long CallTimestamp, long ReturnTimestamp, long LinearizationPoint);
