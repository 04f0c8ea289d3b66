using System.Globalization;
using System.Net;
using System.Text;
using Parley.Checker.Search;

namespace Parley.Checker.Reporting;

/// <summary>
/// Draws one partition as an HTML page holding an SVG timeline: one row per client, one bar per
/// operation from call to return. Timestamps are replaced by their rank, because real gaps vary by orders
/// of magnitude and only order matters. Colours: green = in the longest partial linearization (numbered in
/// order), red = the operation that cannot be placed, orange = a candidate the model rejects there,
/// grey = the rest; a dashed bar never returned.
/// </summary>
public static class TimelineRenderer
{
    private const int RankWidthPixels = 14;
    private const int RowHeightPixels = 34;
    private const int BarHeightPixels = 20;
    private const int LabelWidthPixels = 90;
    private const int MarginPixels = 20;
    private const int DescriptionCharactersMax = 40;

    // Monospace 10px glyphs are about 6 pixels wide; labels may run past their bar, so the canvas must fit them.
    private const int CharacterWidthPixels = 6;

    public static string RenderHtml(string title, PartitionResult partition)
    {
        var operations = partition.Operations;
        var ranks = RankTimestamps(operations);
        var neverRank = ranks.Count + 2;
        var clients = operations.Select(operation => operation.ClientId).Distinct().Order().ToList();
        var rowOfClient = clients.Select((client, row) => (client, row)).ToDictionary(pair => pair.client, pair => pair.row);
        var order = new Dictionary<int, int>();
        for (var position = 0; position < partition.LongestLinearization.Count; position++)
        {
            order[partition.LongestLinearization[position]] = position + 1;
        }

        var rejected = partition.BlockedCandidates.Where(candidate => !candidate.IsLegalNext).Select(candidate => candidate.Operation).ToHashSet();
        var labelRight = operations.Count == 0 ? 0 : operations.Max(operation => X(ranks[operation.CallTimestamp]) + 3 + ((DescriptionCharactersMax + 6) * CharacterWidthPixels));
        var width = Math.Max(LabelWidthPixels + ((neverRank + 1) * RankWidthPixels), labelRight) + MarginPixels;
        var height = (clients.Count * RowHeightPixels) + (2 * MarginPixels);

        var svg = new StringBuilder();
        Append(svg, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"monospace\" font-size=\"10\">");
        foreach (var (client, row) in rowOfClient)
        {
            var y = MarginPixels + (row * RowHeightPixels);
            Append(svg, $"<text x=\"4\" y=\"{y + 14}\">client {client}</text>");
            Append(svg, $"<line x1=\"{LabelWidthPixels}\" y1=\"{y + BarHeightPixels + 6}\" x2=\"{width - MarginPixels}\" y2=\"{y + BarHeightPixels + 6}\" stroke=\"#eee\"/>");
        }

        for (var index = 0; index < operations.Count; index++)
        {
            var operation = operations[index];
            var start = X(ranks[operation.CallTimestamp]);
            var end = X(operation.HasReturned ? ranks[operation.ReturnTimestamp] : neverRank) + RankWidthPixels;
            var y = MarginPixels + (rowOfClient[operation.ClientId] * RowHeightPixels);
            var fill = index == partition.BlockingOperation ? "#f4a0a0"
                : rejected.Contains(index) ? "#f8c87a"
                : order.ContainsKey(index) ? "#a8dca8"
                : "#dddddd";
            var dash = operation.HasReturned ? string.Empty : " stroke-dasharray=\"4 3\"";
            var label = order.TryGetValue(index, out var position) ? $"{position}: {operation.Description}" : operation.Description;
            Append(svg, $"<g><title>{Escape(ViolationExplainer.Describe(partition, index))}</title>");
            Append(svg, $"<rect x=\"{start}\" y=\"{y}\" width=\"{end - start}\" height=\"{BarHeightPixels}\" fill=\"{fill}\" stroke=\"#555\"{dash}/>");
            Append(svg, $"<text x=\"{start + 3}\" y=\"{y + 14}\">{Escape(Truncate(label))}</text></g>");
        }

        svg.Append("</svg>");

        var verdict = partition.Verdict switch
        {
            Verdict.Linearizable => "linearizable",
            Verdict.NotLinearizable => "not linearizable",
            _ => "unknown",
        };
        var page = new StringBuilder();
        page.Append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>").Append(Escape(title)).Append("</title>");
        page.Append("<style>body{font-family:sans-serif} pre{background:#f6f6f6;padding:8px;overflow:auto} .timeline{overflow-x:auto;border:1px solid #ccc}</style></head><body>\n");
        page.Append("<h1>").Append(Escape(title)).Append(": ").Append(verdict).Append("</h1>\n");
        page.Append("<p>Green: longest partial linearization, numbered in order. Red: the operation that cannot be placed before its return. ")
            .Append("Orange: candidates the model rejects in the state reached. Dashed: never returned (unknown outcome). Hover a bar for details.</p>\n");
        page.Append("<div class=\"timeline\">").Append(svg).Append("</div>\n");
        if (partition.Verdict == Verdict.NotLinearizable)
        {
            page.Append("<pre>").Append(Escape(ViolationExplainer.Explain(partition))).Append("</pre>\n");
        }

        page.Append("</body></html>\n");
        return page.ToString();
    }

    private static int X(int rank) => LabelWidthPixels + (rank * RankWidthPixels);

    private static Dictionary<long, int> RankTimestamps(IReadOnlyList<OperationSummary> operations)
    {
        var timestamps = operations.Select(operation => operation.CallTimestamp)
            .Concat(operations.Where(operation => operation.HasReturned).Select(operation => operation.ReturnTimestamp))
            .Distinct()
            .Order()
            .ToList();
        var ranks = new Dictionary<long, int>(timestamps.Count);
        for (var rank = 0; rank < timestamps.Count; rank++)
        {
            ranks[timestamps[rank]] = rank;
        }

        return ranks;
    }

    private static string Truncate(string text) => text.Length <= DescriptionCharactersMax ? text : text[..(DescriptionCharactersMax - 1)] + "…";

    private static string Escape(string text) => WebUtility.HtmlEncode(text);

    private static void Append(StringBuilder builder, FormattableString text) => builder.Append(text.ToString(CultureInfo.InvariantCulture)).Append('\n');
}
