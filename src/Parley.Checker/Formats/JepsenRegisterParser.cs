using System.Globalization;
using System.Text.RegularExpressions;
using Parley.Checker.Models.Register;
using Parley.Checker.Search;

namespace Parley.Checker.Formats;

/// <summary>
/// Reads Jepsen/Knossos text logs of one register (porcupine's test_data/jepsen), following the rules
/// porcupine's own test applies: each :invoke is matched with the next :ok or :fail of its process; a
/// :fail cas is a definite failed compare; a :fail read is an unknown read; :info leaves the operation
/// open, and every open operation is indeterminate (returns at +infinity). Timestamps are line numbers.
/// </summary>
public static partial class JepsenRegisterParser
{
    public static List<Operation<RegisterInput, RegisterOutput>> Parse(TextReader reader, string source)
    {
        var operations = new List<Operation<RegisterInput, RegisterOutput>>();
        var pending = new Dictionary<int, (RegisterInput Input, long CallTimestamp, int Line)>();
        var open = new List<(int Process, RegisterInput Input, long CallTimestamp, int Line)>();
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var match = EventPattern().Match(line);
            if (!match.Success)
            {
                throw new HistoryParseException(source, lineNumber, "not a Jepsen register event (expected 'INFO jepsen.util - <process> :invoke|:ok|:fail|:info :read|:write|:cas <value>')");
            }

            var process = int.Parse(match.Groups["process"].ValueSpan, CultureInfo.InvariantCulture);
            var type = match.Groups["type"].Value;
            var function = match.Groups["function"].Value;
            var value = match.Groups["value"].Value;
            if (type == "invoke")
            {
                if (pending.ContainsKey(process))
                {
                    throw new HistoryParseException(source, lineNumber, $"process {process} invokes while its previous operation is still pending");
                }

                pending.Add(process, (ParseInput(function, value, source, lineNumber), lineNumber, lineNumber));
                continue;
            }

            if (!pending.Remove(process, out var call))
            {
                throw new HistoryParseException(source, lineNumber, $"process {process} completes an operation it never invoked");
            }

            if (call.Input.Kind != KindOf(function))
            {
                throw new HistoryParseException(source, lineNumber, $"process {process} completes :{function} but invoked {call.Input.Kind}");
            }

            switch (type)
            {
                case "info":
                    open.Add((process, call.Input, call.CallTimestamp, call.Line));
                    break;
                case "fail" when call.Input.Kind == RegisterOperationKind.Write:
                    // A failed write definitely did not happen: it has no effect and constrains nothing.
                    break;
                default:
                    var output = ParseOutput(call.Input, type, value, source, lineNumber);
                    operations.Add(new(process, call.Input, output, call.CallTimestamp, lineNumber, call.Line));
                    break;
            }
        }

        foreach (var (process, input, callTimestamp, line) in open)
        {
            operations.Add(new(process, input, RegisterOutput.Unknown, callTimestamp, Operation<RegisterInput, RegisterOutput>.NeverReturned, line));
        }

        foreach (var (process, call) in pending)
        {
            operations.Add(new(process, call.Input, RegisterOutput.Unknown, call.CallTimestamp, Operation<RegisterInput, RegisterOutput>.NeverReturned, call.Line));
        }

        return operations;
    }

    private static RegisterOperationKind KindOf(string function) => function switch
    {
        "read" => RegisterOperationKind.Read,
        "write" => RegisterOperationKind.Write,
        _ => RegisterOperationKind.CompareAndSet,
    };

    private static RegisterInput ParseInput(string function, string value, string source, int line) => KindOf(function) switch
    {
        RegisterOperationKind.Read => RegisterInput.Read(),
        RegisterOperationKind.Write => RegisterInput.Write(ParseValue(value, source, line)),
        _ => ParseCompareAndSet(value, source, line),
    };

    private static RegisterOutput ParseOutput(RegisterInput input, string type, string value, string source, int line)
    {
        if (input.Kind == RegisterOperationKind.Read)
        {
            // A timed-out read (:fail :read) returned nothing; it constrains nothing.
            return type == "ok" ? RegisterOutput.ReadValue(value == "nil" ? null : ParseValue(value, source, line)) : RegisterOutput.Unknown;
        }

        if (input.Kind == RegisterOperationKind.Write)
        {
            return RegisterOutput.Written;
        }

        return RegisterOutput.CompareAndSetResult(type == "ok");
    }

    private static RegisterInput ParseCompareAndSet(string value, string source, int line)
    {
        var match = CompareAndSetPattern().Match(value);
        if (!match.Success)
        {
            throw new HistoryParseException(source, line, $"expected a cas argument '[from to]', found '{value}'");
        }

        return RegisterInput.CompareAndSet(match.Groups["from"].Value, match.Groups["to"].Value);
    }

    private static string ParseValue(string value, string source, int line)
    {
        if (!IntegerPattern().IsMatch(value))
        {
            throw new HistoryParseException(source, line, $"expected an integer value, found '{value}'");
        }

        return value;
    }

    [GeneratedRegex(@"^INFO\s+jepsen\.util\s+-\s+(?<process>\d+)\s+:(?<type>invoke|ok|fail|info)\s+:(?<function>read|write|cas)\s+(?<value>.*?)\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex EventPattern();

    [GeneratedRegex(@"^\[\s*(?<from>-?\d+)\s+(?<to>-?\d+)\s*\]$", RegexOptions.CultureInvariant)]
    private static partial Regex CompareAndSetPattern();

    [GeneratedRegex(@"^-?\d+$", RegexOptions.CultureInvariant)]
    private static partial Regex IntegerPattern();
}
