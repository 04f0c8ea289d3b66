using System.Globalization;
using Parley.Checker.Models.KeyValue;
using Parley.Checker.Search;

namespace Parley.Checker.Formats;

/// <summary>
/// Reads Jepsen EDN op maps of a string key-value store (porcupine's test_data/kv), one per line:
/// <c>{:process N, :type :invoke|:ok|:fail|:info, :f :get|:put|:append, :key "k", :value "v"|nil}</c>.
/// Each :invoke is matched with the next completion of its process; :fail means the operation did not
/// happen (dropped); :info or no completion leaves it indeterminate. Timestamps are line numbers.
/// </summary>
public static class KeyValueEdnParser
{
    public static List<Operation<KeyValueInput, KeyValueOutput>> Parse(TextReader reader, string source)
    {
        var operations = new List<Operation<KeyValueInput, KeyValueOutput>>();
        var pending = new Dictionary<long, (KeyValueInput Input, long CallTimestamp, int Line)>();
        var open = new List<(long Process, KeyValueInput Input, long CallTimestamp, int Line)>();
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var map = EdnMapReader.ReadMap(line, source, lineNumber);
            var process = long.Parse(Required(map, "process", source, lineNumber), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            var type = Required(map, "type", source, lineNumber);
            var input = new KeyValueInput(
                ParseKind(Required(map, "f", source, lineNumber), source, lineNumber),
                Required(map, "key", source, lineNumber),
                map.GetValueOrDefault("value") ?? string.Empty);
            if (type == ":invoke")
            {
                if (!pending.TryAdd(process, (input, lineNumber, lineNumber)))
                {
                    throw new HistoryParseException(source, lineNumber, $"process {process} invokes while its previous operation is still pending");
                }

                continue;
            }

            if (!pending.Remove(process, out var call))
            {
                throw new HistoryParseException(source, lineNumber, $"process {process} completes an operation it never invoked");
            }

            if (call.Input.Kind != input.Kind || call.Input.Key != input.Key)
            {
                throw new HistoryParseException(source, lineNumber, $"process {process} completes {input.Kind} of key \"{input.Key}\" but invoked {call.Input.Kind} of key \"{call.Input.Key}\"");
            }

            switch (type)
            {
                case ":ok":
                    var output = KeyValueOutput.Completed(input.Kind == KeyValueOperationKind.Get ? map.GetValueOrDefault("value") ?? string.Empty : string.Empty);
                    operations.Add(new((int)process, call.Input, output, call.CallTimestamp, lineNumber, call.Line));
                    break;
                case ":fail":
                    break;
                case ":info":
                    open.Add((process, call.Input, call.CallTimestamp, call.Line));
                    break;
                default:
                    throw new HistoryParseException(source, lineNumber, $"unknown :type {type}");
            }
        }

        open.AddRange(pending.Select(pair => (pair.Key, pair.Value.Input, pair.Value.CallTimestamp, pair.Value.Line)));
        foreach (var (process, input, callTimestamp, line) in open)
        {
            operations.Add(new((int)process, input, KeyValueOutput.Unknown, callTimestamp, Operation<KeyValueInput, KeyValueOutput>.NeverReturned, line));
        }

        return operations;
    }

    private static string Required(Dictionary<string, string?> map, string key, string source, int line) =>
        map.GetValueOrDefault(key) ?? throw new HistoryParseException(source, line, $"missing :{key}");

    private static KeyValueOperationKind ParseKind(string function, string source, int line) => function switch
    {
        ":get" => KeyValueOperationKind.Get,
        ":put" => KeyValueOperationKind.Put,
        ":append" => KeyValueOperationKind.Append,
        _ => throw new HistoryParseException(source, line, $"unknown :f {function} (expected :get, :put or :append)"),
    };
}
