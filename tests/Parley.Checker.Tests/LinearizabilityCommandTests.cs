using Parley.Checker.Formats;
using Parley.Checker.Reporting;
using Parley.Checker.Search;

namespace Parley.Checker.Tests;

/// <summary>Claims about 'parley check linearizability': one line per file, and exit codes by precedence.</summary>
public sealed class LinearizabilityCommandTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "parley-checker-tests-" + Guid.NewGuid().ToString("N"));

    public LinearizabilityCommandTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Command_ExitsZero_AndPrintsOneLinePerFile_WhenAllLinearizable()
    {
        var files = new[] { TestData.Porcupine("kv/c01-ok.txt"), TestData.Porcupine("kv/c10-ok.txt") };

        var (exitCode, output, _) = Run(files, HistoryFormat.KeyValueEdn);

        Assert.Equal(CheckExitCode.Linearizable, exitCode);
        Assert.Equal(files.Select(file => $"{file}: linearizable"), output);
    }

    [Fact]
    public void Command_ExitsOne_WhenAnyFileIsNotLinearizable_EvenIfAnotherIsUnreadable()
    {
        var missing = Path.Combine(_directory, "missing.txt");
        var files = new[] { TestData.Porcupine("kv/c01-ok.txt"), TestData.Porcupine("kv/c01-bad.txt"), missing };

        var (exitCode, output, _) = Run(files, HistoryFormat.KeyValueEdn);

        Assert.Equal(CheckExitCode.NotLinearizable, exitCode);
        Assert.Equal([$"{files[0]}: linearizable", $"{files[1]}: not linearizable", $"{missing}: unreadable"], output);
    }

    [Fact]
    public void Command_ExitsTwo_AndNamesFileAndLine_WhenInputIsMalformed()
    {
        var file = Path.Combine(_directory, "bad.jsonl");
        File.WriteAllText(file, "{\"client\":1,\"op\":\"get\",\"key\":\"a\",\"call\":1,\"return\":2,\"value\":null}\nnot json\n");

        var (exitCode, output, error) = Run([file], HistoryFormat.Parley);

        Assert.Equal(CheckExitCode.UnreadableInput, exitCode);
        Assert.Equal([$"{file}: unreadable"], output);
        Assert.Contains($"{file}:2: ", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Command_ExitsThree_WhenBudgetRunsOutWithoutViolation()
    {
        var file = TestData.Porcupine("kv/c50-ok.txt");

        var (exitCode, output, _) = Run([file], HistoryFormat.KeyValueEdn, new CheckOptions { StepsMaxPerPartition = 1 });

        Assert.Equal(CheckExitCode.Unknown, exitCode);
        Assert.Equal([$"{file}: unknown"], output);
    }

    [Fact]
    public void Command_WritesTimelineAndExplanation_ForViolation()
    {
        var file = TestData.Porcupine("jepsen/etcd_070.log");
        var timelines = Path.Combine(_directory, "timelines");

        var (exitCode, _, error) = Run([file], HistoryFormat.JepsenRegister, visualizeDirectory: timelines);

        Assert.Equal(CheckExitCode.NotLinearizable, exitCode);
        Assert.Contains("linearization becomes impossible after", error, StringComparison.Ordinal);
        var html = File.ReadAllText(Path.Combine(timelines, "etcd_070.log.html"));
        Assert.Contains("<svg", html, StringComparison.Ordinal);
        Assert.Contains("not linearizable", html, StringComparison.Ordinal);
    }

    private static (int ExitCode, string[] Output, string Error) Run(
        string[] files, HistoryFormat format, CheckOptions? options = null, string? visualizeDirectory = null)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = LinearizabilityCommand.Run(files, format, options ?? new CheckOptions(), visualizeDirectory, printStatistics: false, output, error);
        return (exitCode, output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries), error.ToString());
    }
}
