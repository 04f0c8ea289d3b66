using System.Globalization;
using System.Text;

namespace Parley.Simulation;

/// <summary>
/// What happened, in order. Lines are kept as lazily formatted records in a ring buffer (the tail is printed on a
/// failure); with a writer attached every line is written as it happens, for exact replays.
/// </summary>
public sealed class Trace
{
    private readonly (long TimeMicros, object Subject, string Text)[] _ring;
    private readonly TextWriter? _writer;
    private readonly EventQueue _clock;
    private long _count;

    public Trace(EventQueue clock, int tailLines, TextWriter? writer)
    {
        _clock = clock;
        _ring = new (long, object, string)[tailLines];
        _writer = writer;
    }

    public bool IsVerbose => _writer is not null;

    public void Add(string text, object? subject = null)
    {
        var record = (_clock.NowMicros, subject ?? string.Empty, text);
        _ring[_count % _ring.Length] = record;
        _count++;
        _writer?.WriteLine(Format(record));
    }

    public string Tail(int lines)
    {
        var builder = new StringBuilder();
        var start = Math.Max(0, _count - Math.Min(lines, _ring.Length));
        for (var i = start; i < _count; i++)
        {
            builder.AppendLine(Format(_ring[i % _ring.Length]));
        }
        return builder.ToString();
    }

    private static string Format((long TimeMicros, object Subject, string Text) record)
    {
        var time = (record.TimeMicros / 1000.0).ToString("F3", CultureInfo.InvariantCulture);
        var subject = record.Subject as string is "" ? "" : " " + record.Subject;
        return $"{time,12}ms {record.Text}{subject}";
    }
}
