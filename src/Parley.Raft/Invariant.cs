using System.Runtime.CompilerServices;

namespace Parley.Raft;

/// <summary>Always-on assertions: a broken invariant stops the member rather than letting it continue wrong.</summary>
public static class Invariant
{
    public static void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvariantViolationException(message);
        }
    }

    /// <summary>
    /// The same with an interpolated message, formatted only if the check fails: these checks sit on the log's hot
    /// paths (every append, slice and commit), where formatting each message anyway cost a string per call.
    /// </summary>
    public static void Check(bool condition, [InterpolatedStringHandlerArgument(nameof(condition))] ref FailureMessage message)
    {
        if (!condition)
        {
            throw new InvariantViolationException(message.ToStringAndClear());
        }
    }

    /// <summary>Builds a check's message only when the check failed.</summary>
    [InterpolatedStringHandler]
    public ref struct FailureMessage
    {
        private DefaultInterpolatedStringHandler _text;

        public FailureMessage(int literalLength, int formattedCount, bool condition, out bool failed)
        {
            failed = !condition;
            _text = failed ? new DefaultInterpolatedStringHandler(literalLength, formattedCount) : default;
        }

        public void AppendLiteral(string value) => _text.AppendLiteral(value);

        public void AppendFormatted<T>(T value) => _text.AppendFormatted(value);

        public void AppendFormatted<T>(T value, string? format) => _text.AppendFormatted(value, format);

        public void AppendFormatted<T>(T value, int alignment) => _text.AppendFormatted(value, alignment);

        public void AppendFormatted<T>(T value, int alignment, string? format) => _text.AppendFormatted(value, alignment, format);

        public void AppendFormatted(string? value) => _text.AppendFormatted(value);

        public string ToStringAndClear() => _text.ToStringAndClear();
    }
}
