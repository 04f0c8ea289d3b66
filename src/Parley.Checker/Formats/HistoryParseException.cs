namespace Parley.Checker.Formats;

/// <summary>An input history that cannot be read; names the source and the 1-based line.</summary>
public sealed class HistoryParseException : Exception
{
    public HistoryParseException()
    {
        Source = string.Empty;
    }

    public HistoryParseException(string message)
        : base(message)
    {
        Source = string.Empty;
    }

    public HistoryParseException(string message, Exception innerException)
        : base(message, innerException)
    {
        Source = string.Empty;
    }

    public HistoryParseException(string source, int line, string reason)
        : base($"{source}:{line}: {reason}")
    {
        Source = source;
        Line = line;
        Reason = reason;
    }

    /// <summary>The file (or other source name) being read.</summary>
    public new string Source { get; }

    /// <summary>1-based line number; 0 when the problem is not tied to a line.</summary>
    public int Line { get; }

    /// <summary>What is wrong, without the location.</summary>
    public string Reason { get; } = string.Empty;
}
