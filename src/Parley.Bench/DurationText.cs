using System.Globalization;

namespace Parley.Bench;

/// <summary>Durations on the command line: <c>500ms</c>, <c>10s</c>, <c>2m</c>, <c>1h</c>, or a bare number of seconds.</summary>
public static class DurationText
{
    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = default;
        var trimmed = text.Trim();
        (string Suffix, double SecondsPerUnit)[] units = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)];
        var secondsPerUnit = 1.0;
        foreach (var (suffix, perUnit) in units)
        {
            if (trimmed.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                trimmed = trimmed[..^suffix.Length];
                secondsPerUnit = perUnit;
                break;
            }
        }
        if (!double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !(value > 0) || double.IsInfinity(value))
        {
            return false;
        }
        var seconds = value * secondsPerUnit;
        if (seconds > TimeSpan.FromDays(1).TotalSeconds)
        {
            return false;
        }
        duration = TimeSpan.FromSeconds(seconds);
        return true;
    }

    public static string Format(TimeSpan duration) =>
        duration.TotalSeconds >= 1
            ? duration.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s"
            : duration.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture) + "ms";
}
