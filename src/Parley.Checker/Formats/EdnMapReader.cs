using System.Globalization;
using System.Text;

namespace Parley.Checker.Formats;

/// <summary>
/// Reads one flat EDN map per line, such as <c>{:process 3, :type :ok, :f :get, :key "5", :value "x"}</c>.
/// Values may be keywords (kept with their colon), strings, integers or nil (null). Nested
/// collections are not needed by the formats we read and are rejected.
/// </summary>
internal static class EdnMapReader
{
    public static Dictionary<string, string?> ReadMap(string line, string source, int lineNumber)
    {
        var map = new Dictionary<string, string?>(StringComparer.Ordinal);
        var position = 0;
        SkipSeparators(line, ref position);
        Expect(line, ref position, '{', source, lineNumber);
        while (true)
        {
            SkipSeparators(line, ref position);
            if (position >= line.Length)
            {
                throw new HistoryParseException(source, lineNumber, "unterminated map (missing '}')");
            }

            if (line[position] == '}')
            {
                position++;
                break;
            }

            var key = ReadAtom(line, ref position, source, lineNumber);
            if (key is null || !key.StartsWith(':'))
            {
                throw new HistoryParseException(source, lineNumber, $"map keys must be keywords, found '{key ?? "nil"}'");
            }

            SkipSeparators(line, ref position);
            var value = ReadAtom(line, ref position, source, lineNumber);
            if (!map.TryAdd(key[1..], value))
            {
                throw new HistoryParseException(source, lineNumber, $"duplicate key {key}");
            }
        }

        SkipSeparators(line, ref position);
        if (position != line.Length)
        {
            throw new HistoryParseException(source, lineNumber, "unexpected text after the map");
        }

        return map;
    }

    private static string? ReadAtom(string line, ref int position, string source, int lineNumber)
    {
        if (position >= line.Length)
        {
            throw new HistoryParseException(source, lineNumber, "unexpected end of line");
        }

        if (line[position] == '"')
        {
            return ReadString(line, ref position, source, lineNumber);
        }

        var start = position;
        while (position < line.Length && !IsSeparator(line[position]) && line[position] != '}')
        {
            if ("{[(\"".Contains(line[position], StringComparison.Ordinal))
            {
                throw new HistoryParseException(source, lineNumber, $"unsupported value at column {position + 1}");
            }

            position++;
        }

        var atom = line[start..position];
        if (atom.Length == 0)
        {
            throw new HistoryParseException(source, lineNumber, $"expected a value at column {start + 1}");
        }

        if (atom == "nil")
        {
            return null;
        }

        if (!atom.StartsWith(':') && !long.TryParse(atom, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
        {
            throw new HistoryParseException(source, lineNumber, $"expected a keyword, string, integer or nil, found '{atom}'");
        }

        return atom;
    }

    private static string ReadString(string line, ref int position, string source, int lineNumber)
    {
        var builder = new StringBuilder();
        position++;
        while (position < line.Length)
        {
            var character = line[position++];
            if (character == '"')
            {
                return builder.ToString();
            }

            if (character == '\\')
            {
                if (position >= line.Length)
                {
                    break;
                }

                var escaped = line[position++];
                builder.Append(escaped switch
                {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    _ => escaped,
                });
                continue;
            }

            builder.Append(character);
        }

        throw new HistoryParseException(source, lineNumber, "unterminated string");
    }

    private static void Expect(string line, ref int position, char expected, string source, int lineNumber)
    {
        if (position >= line.Length || line[position] != expected)
        {
            throw new HistoryParseException(source, lineNumber, $"expected '{expected}' at column {position + 1}");
        }

        position++;
    }

    // EDN treats commas as whitespace.
    private static bool IsSeparator(char character) => character == ',' || char.IsWhiteSpace(character);

    private static void SkipSeparators(string line, ref int position)
    {
        while (position < line.Length && IsSeparator(line[position]))
        {
            position++;
        }
    }
}
