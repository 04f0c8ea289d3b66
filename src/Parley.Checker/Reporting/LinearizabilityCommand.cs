using System.Globalization;
using Parley.Checker.Formats;
using Parley.Checker.Search;

namespace Parley.Checker.Reporting;

/// <summary>
/// The body of <c>parley check linearizability</c>, kept here so it can be tested without the CLI.
/// Prints one line per file on <c>output</c> ("FILE: linearizable", "FILE: not linearizable",
/// "FILE: unknown" or "FILE: unreadable"); explanations, parse errors and statistics go to <c>error</c>
/// so that standard output stays one line per file.
/// </summary>
public static class LinearizabilityCommand
{
    public static int Run(
        IReadOnlyList<string> files,
        HistoryFormat format,
        CheckOptions options,
        string? visualizeDirectory,
        bool printStatistics,
        TextWriter output,
        TextWriter error)
    {
        var anyNotLinearizable = false;
        var anyUnreadable = false;
        var anyUnknown = false;
        var writtenTimelines = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            CheckResult result;
            try
            {
                result = HistoryFileChecker.Check(file, format, options);
            }
            catch (HistoryParseException exception)
            {
                anyUnreadable = true;
                output.WriteLine($"{file}: unreadable");
                error.WriteLine(exception.Message);
                continue;
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                anyUnreadable = true;
                output.WriteLine($"{file}: unreadable");
                error.WriteLine($"{file}: {exception.Message}");
                continue;
            }

            output.WriteLine($"{file}: {Describe(result.Verdict)}");
            if (printStatistics)
            {
                PrintStatistics(file, result, error);
            }

            switch (result.Verdict)
            {
                case Verdict.NotLinearizable:
                    anyNotLinearizable = true;
                    var violation = result.SmallestViolation!;
                    error.WriteLine($"{file}: why it is not linearizable:");
                    error.Write(Indent(ViolationExplainer.Explain(violation), "  "));
                    if (visualizeDirectory is not null)
                    {
                        var path = WriteTimeline(visualizeDirectory, file, violation, writtenTimelines);
                        error.WriteLine($"{file}: timeline written to {path}");
                    }

                    break;
                case Verdict.Unknown:
                    anyUnknown = true;
                    var reasons = result.Partitions.Where(partition => partition.Verdict == Verdict.Unknown && partition.StopReason != SearchStopReason.Superseded)
                        .Select(partition => partition.StopReason).Distinct();
                    error.WriteLine($"{file}: no violation found within budget ({string.Join(", ", reasons)}); this is not a pass");
                    break;
            }
        }

        if (anyNotLinearizable)
        {
            return CheckExitCode.NotLinearizable;
        }

        if (anyUnreadable)
        {
            return CheckExitCode.UnreadableInput;
        }

        return anyUnknown ? CheckExitCode.Unknown : CheckExitCode.Linearizable;
    }

    public static string Describe(Verdict verdict) => verdict switch
    {
        Verdict.Linearizable => "linearizable",
        Verdict.NotLinearizable => "not linearizable",
        _ => "unknown",
    };

    private static void PrintStatistics(string file, CheckResult result, TextWriter error)
    {
        var operations = result.Partitions.Sum(partition => partition.Operations.Count);
        var steps = result.Partitions.Sum(partition => partition.Steps);
        error.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{file}: {operations} operations in {result.Partitions.Count} partition(s), {steps} model steps, {result.Elapsed.TotalMilliseconds:F1} ms"));
    }

    private static string WriteTimeline(string directory, string file, PartitionResult violation, HashSet<string> written)
    {
        Directory.CreateDirectory(directory);
        var name = Path.GetFileName(file) + ".html";
        for (var attempt = 2; !written.Add(name); attempt++)
        {
            name = string.Create(CultureInfo.InvariantCulture, $"{Path.GetFileName(file)}.{attempt}.html");
        }

        var path = Path.Combine(directory, name);
        File.WriteAllText(path, TimelineRenderer.RenderHtml(file, violation));
        return path;
    }

    private static string Indent(string text, string prefix) =>
        string.Concat(text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => prefix + line + "\n"));
}
