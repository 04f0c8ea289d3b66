namespace Parley.Checker.Tests;

/// <summary>Locates the test histories copied next to the test assembly.</summary>
internal static class TestData
{
    public static string Root { get; } = Path.Combine(AppContext.BaseDirectory, "TestData");

    public static string Porcupine(string relativePath) => Path.Combine(Root, "porcupine", "test_data", relativePath);

    public static string Sample(string fileName) => Path.Combine(Root, "samples", fileName);
}
