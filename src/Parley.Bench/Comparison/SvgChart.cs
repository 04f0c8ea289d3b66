using System.Globalization;
using System.Security;
using System.Text;

namespace Parley.Bench.Comparison;

/// <summary>
/// The compare chart: put throughput and p99 latency against client count, etcd and Parley as two lines per
/// panel. Plain SVG text (no browser or plotting library needed); client counts are evenly spaced categories.
/// </summary>
public static class SvgChart
{
    private const int PanelWidth = 460;
    private const int PanelHeight = 300;
    private const int MarginLeft = 70;
    private const int MarginTop = 50;
    private const int MarginBottom = 50;
    private const int PanelGap = 40;
    private const string EtcdColour = "#1f77b4";
    private const string ParleyColour = "#d62728";

    public static string Render(IReadOnlyList<WorkloadComparison> sweep, string title)
    {
        var width = MarginLeft + PanelWidth + PanelGap + MarginLeft + PanelWidth + 30;
        var height = MarginTop + PanelHeight + MarginBottom + 30;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        svg.Append(CultureInfo.InvariantCulture, $"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{width / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{Escape(title)}</text>\n");
        var clients = sweep.Select(point => point.Clients).ToArray();
        Panel(svg, MarginLeft, "put throughput (ops/s)", clients,
            sweep.Select(point => point.Etcd.Result.ThroughputPerSecond).ToArray(),
            sweep.Select(point => point.Parley.Result.ThroughputPerSecond).ToArray());
        Panel(svg, MarginLeft + PanelWidth + PanelGap + MarginLeft, "put p99 latency (ms)", clients,
            sweep.Select(point => point.Etcd.Result.Latency.P99Ms).ToArray(),
            sweep.Select(point => point.Parley.Result.Latency.P99Ms).ToArray());
        var legendY = height - 14;
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{MarginLeft}\" y1=\"{legendY - 4}\" x2=\"{MarginLeft + 24}\" y2=\"{legendY - 4}\" stroke=\"{EtcdColour}\" stroke-width=\"2\"/><text x=\"{MarginLeft + 30}\" y=\"{legendY}\">etcd</text>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{MarginLeft + 80}\" y1=\"{legendY - 4}\" x2=\"{MarginLeft + 104}\" y2=\"{legendY - 4}\" stroke=\"{ParleyColour}\" stroke-width=\"2\"/><text x=\"{MarginLeft + 110}\" y=\"{legendY}\">Parley</text>\n");
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static void Panel(StringBuilder svg, int left, string label, int[] clients, double[] etcd, double[] parley)
    {
        var top = MarginTop;
        var bottom = top + PanelHeight;
        var maximum = NiceMaximum(etcd.Concat(parley).DefaultIfEmpty(0).Max());
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left + (PanelWidth / 2)}\" y=\"{top - 10}\" text-anchor=\"middle\" font-size=\"13\">{Escape(label)}</text>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{bottom}\" x2=\"{left + PanelWidth}\" y2=\"{bottom}\" stroke=\"black\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{bottom}\" stroke=\"black\"/>\n");
        const int ticks = 5;
        for (var tick = 0; tick <= ticks; tick++)
        {
            var value = maximum * tick / ticks;
            var y = bottom - (PanelHeight * tick / ticks);
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left - 4}\" y1=\"{y}\" x2=\"{left + PanelWidth}\" y2=\"{y}\" stroke=\"#ddd\"/>\n");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left - 8}\" y=\"{y + 4}\" text-anchor=\"end\">{Escape(Label(value))}</text>\n");
        }
        for (var i = 0; i < clients.Length; i++)
        {
            var x = X(left, i, clients.Length);
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x:0.#}\" y=\"{bottom + 18}\" text-anchor=\"middle\">{clients[i]}</text>\n");
        }
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left + (PanelWidth / 2)}\" y=\"{bottom + 38}\" text-anchor=\"middle\">clients</text>\n");
        Series(svg, left, bottom, maximum, etcd, EtcdColour);
        Series(svg, left, bottom, maximum, parley, ParleyColour);
    }

    private static void Series(StringBuilder svg, int left, int bottom, double maximum, double[] values, string colour)
    {
        if (values.Length == 0)
        {
            return;
        }
        var points = values.Select((value, i) => (X: X(left, i, values.Length), Y: bottom - (maximum > 0 ? value / maximum * PanelHeight : 0))).ToArray();
        svg.Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{string.Join(" ", points.Select(point => string.Create(CultureInfo.InvariantCulture, $"{point.X:0.#},{point.Y:0.#}")))}\"/>\n");
        for (var i = 0; i < points.Length; i++)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{points[i].X:0.#}\" cy=\"{points[i].Y:0.#}\" r=\"3.5\" fill=\"{colour}\"><title>{Escape(Label(values[i]))}</title></circle>\n");
        }
    }

    private static double X(int left, int index, int count) =>
        count == 1 ? left + (PanelWidth / 2.0) : left + 30 + ((PanelWidth - 60.0) * index / (count - 1));

    /// <summary>1, 2 or 5 times a power of ten, at least <paramref name="value"/> (1 when there is nothing to draw).</summary>
    public static double NiceMaximum(double value)
    {
        if (!(value > 0) || double.IsInfinity(value))
        {
            return 1;
        }
        var power = Math.Pow(10, Math.Floor(Math.Log10(value)));
        foreach (var step in new[] { 1.0, 2.0, 5.0, 10.0 })
        {
            if (step * power >= value)
            {
                return step * power;
            }
        }
        return 10 * power;
    }

    private static string Label(double value) =>
        value >= 10_000 ? (value / 1000).ToString("0.#", CultureInfo.InvariantCulture) + "k"
        : value >= 10 ? value.ToString("0", CultureInfo.InvariantCulture)
        : value.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Escape(string text) => SecurityElement.Escape(text) ?? "";
}
