using System.Globalization;
using System.Text.RegularExpressions;

namespace Parley.Server.Tests;

/// <summary>
/// A strict reader of the Prometheus text format (0.0.4) as a scraper sees it: every sample must belong to a family
/// declared by a TYPE line, label values are quoted, values are numbers; histograms must be cumulative and end in +Inf.
/// </summary>
public sealed partial class PrometheusText
{
    private readonly Dictionary<string, string> _types = new(StringComparer.Ordinal);
    private readonly List<Sample> _samples = [];

    private PrometheusText()
    {
    }

    public IReadOnlyDictionary<string, string> Types => _types;

    public static PrometheusText Parse(string text)
    {
        var parsed = new PrometheusText();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line.StartsWith("# HELP ", StringComparison.Ordinal))
            {
                continue;
            }
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                Assert.True(parts.Length == 4 && parts[3] is "gauge" or "counter" or "histogram" or "summary" or "untyped", $"bad TYPE line: {line}");
                Assert.True(parsed._types.TryAdd(parts[2], parts[3]), $"family {parts[2]} declared twice");
                continue;
            }
            var match = SampleLine().Match(line);
            Assert.True(match.Success, $"not a sample line: {line}");
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (Match label in LabelPair().Matches(match.Groups["labels"].Value))
            {
                labels.Add(label.Groups["name"].Value, label.Groups["value"].Value);
            }
            var value = match.Groups["value"].Value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                var number => double.Parse(number, NumberStyles.Float, CultureInfo.InvariantCulture),
            };
            var name = match.Groups["name"].Value;
            Assert.True(parsed._types.ContainsKey(Family(name, parsed._types)), $"sample {name} has no TYPE line before it");
            parsed._samples.Add(new Sample(name, labels, value));
        }
        return parsed;
    }

    /// <summary>The one sample of <paramref name="name"/> whose labels include <paramref name="labels"/>.</summary>
    public double Value(string name, params (string Name, string Value)[] labels)
    {
        var matching = Find(name, labels).ToList();
        Assert.True(matching.Count == 1, $"{matching.Count} samples of {name} with labels {string.Join(",", labels)}");
        return matching[0].Value;
    }

    public IEnumerable<Sample> Find(string name, params (string Name, string Value)[] labels) =>
        _samples.Where(sample => sample.Name == name && labels.All(label => sample.Labels.GetValueOrDefault(label.Name) == label.Value));

    /// <summary>Checks a histogram's series for one label set: the bounds, cumulative counts, +Inf = _count; returns _count.</summary>
    public long Histogram(string name, double[] expectedBounds, params (string Name, string Value)[] labels)
    {
        Assert.Equal("histogram", _types.GetValueOrDefault(name));
        var buckets = Find(name + "_bucket", labels).ToList();
        Assert.Equal(expectedBounds.Length + 1, buckets.Count);
        for (var i = 0; i < expectedBounds.Length; i++)
        {
            Assert.Equal(expectedBounds[i], double.Parse(buckets[i].Labels["le"], CultureInfo.InvariantCulture), 12);
            Assert.DoesNotContain("00000", buckets[i].Labels["le"], StringComparison.Ordinal); // 0.008, not 0.0080000000000000002
            if (i > 0)
            {
                Assert.True(buckets[i].Value >= buckets[i - 1].Value, $"{name} buckets are not cumulative at le={buckets[i].Labels["le"]}");
            }
        }
        Assert.Equal("+Inf", buckets[^1].Labels["le"]);
        var count = Value(name + "_count", labels);
        Assert.Equal(count, buckets[^1].Value);
        Assert.True(Value(name + "_sum", labels) >= 0);
        return (long)count;
    }

    private static string Family(string sample, Dictionary<string, string> types)
    {
        foreach (var suffix in new[] { "_bucket", "_sum", "_count" })
        {
            if (sample.EndsWith(suffix, StringComparison.Ordinal) && types.GetValueOrDefault(sample[..^suffix.Length]) is "histogram" or "summary")
            {
                return sample[..^suffix.Length];
            }
        }
        return sample;
    }

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>\S+)$""")]
    private static partial Regex SampleLine();

    [GeneratedRegex("""(?<name>[a-zA-Z_][a-zA-Z0-9_]*)="(?<value>[^"\\]*)",?""")]
    private static partial Regex LabelPair();

    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);
}
