using System.Globalization;
using System.Text;
using Parley.Checker.Search;

namespace Parley.Checker.Reporting;

/// <summary>
/// Explains a non-linearizable partition in text: where linearization becomes impossible (the longest
/// partial linearization and the operation whose return it cannot get past), which operations could have
/// come next and whether the model accepts them there, and the partition's whole sub-history.
/// </summary>
public static class ViolationExplainer
{
    public static string Explain(PartitionResult partition)
    {
        var builder = new StringBuilder();
        var operations = partition.Operations;
        var name = partition.Key is null ? "the whole history (not partitioned)" : $"key \"{partition.Key}\"";
        Line(builder, $"smallest failing partition: {name} ({operations.Count} operations)");
        Line(builder, $"linearization becomes impossible after {partition.LongestLinearization.Count} of {operations.Count} operations, in state {partition.StateAfterLongest}");
        if (partition.BlockingOperation >= 0)
        {
            Line(builder, "  no order lets this operation take effect before it returned:");
            Line(builder, "    " + Describe(partition, partition.BlockingOperation));
        }

        if (partition.BlockedCandidates.Count > 0)
        {
            Line(builder, "  operations that could come next (called before that return):");
            foreach (var candidate in partition.BlockedCandidates)
            {
                var verdict = candidate.IsLegalNext ? "legal here, but every continuation fails" : "illegal in this state";
                Line(builder, $"    {Describe(partition, candidate.Operation)}  <- {verdict}");
            }
        }

        Line(builder, "  longest partial linearization, in order:");
        for (var position = 0; position < partition.LongestLinearization.Count; position++)
        {
            Line(builder, $"    {position + 1,4}. {Describe(partition, partition.LongestLinearization[position])}");
        }

        Line(builder, $"  sub-history of {name}, by call time:");
        foreach (var index in Enumerable.Range(0, operations.Count).OrderBy(index => operations[index].CallTimestamp).ThenBy(index => index))
        {
            Line(builder, "    " + Describe(partition, index));
        }

        return builder.ToString();
    }

    /// <summary>One operation on one line: index, client, interval, source line, description.</summary>
    public static string Describe(PartitionResult partition, int index)
    {
        var operation = partition.Operations[index];
        var returned = operation.HasReturned ? operation.ReturnTimestamp.ToString(CultureInfo.InvariantCulture) : "never (unknown outcome)";
        var line = operation.SourceLine > 0 ? string.Create(CultureInfo.InvariantCulture, $" line {operation.SourceLine}") : string.Empty;
        return string.Create(CultureInfo.InvariantCulture, $"#{index} client {operation.ClientId} [call {operation.CallTimestamp}, return {returned}]{line}: {operation.Description}");
    }

    private static void Line(StringBuilder builder, string text) => builder.Append(text).Append('\n');
}
