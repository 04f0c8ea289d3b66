using System.Text.Json;
using Parley.Checker.Models.Etcd;
using Parley.Checker.Search;

namespace Parley.Checker.Formats;

/// <summary>
/// Reads Parley's own history format: JSON lines of etcd requests and responses, checked with the
/// <see cref="EtcdModel"/>. The format is specified in docs/history-format.md; this parser is strict
/// (unknown fields are errors, except the free-form "meta") so that a typo cannot silently drop a check.
/// </summary>
public static class ParleyHistoryParser
{
    private static readonly HashSet<string> KnownFields = new(StringComparer.Ordinal)
    {
        "client", "op", "key", "value", "call", "return", "outcome", "revision", "mod_revision", "deleted",
        "succeeded", "compare", "success", "failure", "meta",
    };

    public static List<Operation<EtcdRequest, EtcdResponse>> Parse(TextReader reader, string source)
    {
        var operations = new List<Operation<EtcdRequest, EtcdResponse>>();
        var lastReturnByClient = new Dictionary<int, long>();
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            Operation<EtcdRequest, EtcdResponse>? operation;
            try
            {
                using var document = JsonDocument.Parse(line);
                operation = ParseOperation(document.RootElement, lineNumber);
            }
            catch (JsonException exception)
            {
                throw new HistoryParseException(source, lineNumber, "not valid JSON: " + exception.Message);
            }
            catch (FormatException exception)
            {
                throw new HistoryParseException(source, lineNumber, exception.Message);
            }
            catch (InvalidOperationException exception)
            {
                // JsonElement accessors throw this when a field has the wrong JSON type.
                throw new HistoryParseException(source, lineNumber, "a field has the wrong type: " + exception.Message);
            }

            if (operation is not { } parsed)
            {
                continue;
            }

            // Clients are sequential: each request starts after the previous one returned. An indeterminate
            // request does not block its client (it gave up waiting).
            if (lastReturnByClient.TryGetValue(parsed.ClientId, out var lastReturn) && parsed.CallTimestamp < lastReturn)
            {
                throw new HistoryParseException(source, lineNumber, $"client {parsed.ClientId} calls at {parsed.CallTimestamp}, before its previous request returned at {lastReturn}");
            }

            if (parsed.HasReturned)
            {
                lastReturnByClient[parsed.ClientId] = parsed.ReturnTimestamp;
            }

            operations.Add(parsed);
        }

        return operations;
    }

    private static Operation<EtcdRequest, EtcdResponse>? ParseOperation(JsonElement root, int lineNumber)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("each line must be one JSON object");
        }

        foreach (var property in root.EnumerateObject())
        {
            if (!KnownFields.Contains(property.Name))
            {
                throw new FormatException($"unknown field \"{property.Name}\" (put annotations under \"meta\")");
            }
        }

        var client = Required(root, "client").GetInt32();
        var call = Required(root, "call").GetInt64();
        long? returned = root.TryGetProperty("return", out var returnElement) && returnElement.ValueKind != JsonValueKind.Null
            ? returnElement.GetInt64()
            : null;
        var outcome = root.TryGetProperty("outcome", out var outcomeElement) ? outcomeElement.GetString() : (returned is null ? "unknown" : "ok");
        var request = ParseRequest(root);
        switch (outcome)
        {
            case "fail":
                // The client knows the request had no effect (rejected before it could be applied): it constrains nothing.
                return null;
            case "unknown":
                // The request may take effect at any time after its call, even after the client gave up, so any
                // recorded return time is ignored.
                return new(client, request, EtcdResponse.Unknown, call, Operation<EtcdRequest, EtcdResponse>.NeverReturned, lineNumber);
            case "ok":
                if (returned is not { } returnTimestamp)
                {
                    throw new FormatException("a completed (\"outcome\":\"ok\") request needs a \"return\" timestamp");
                }

                if (returnTimestamp < call)
                {
                    throw new FormatException($"\"return\" {returnTimestamp} is before \"call\" {call}");
                }

                return new(client, request, ParseResponse(root, request.Kind), call, returnTimestamp, lineNumber);
            default:
                throw new FormatException($"\"outcome\" must be \"ok\", \"unknown\" or \"fail\", found \"{outcome}\"");
        }
    }

    private static EtcdRequest ParseRequest(JsonElement root)
    {
        var kind = Required(root, "op").GetString();
        return kind switch
        {
            "get" => EtcdRequest.Get(RequiredString(root, "key")),
            "put" => EtcdRequest.Put(RequiredString(root, "key"), RequiredString(root, "value")),
            "delete" => EtcdRequest.Delete(RequiredString(root, "key")),
            "txn" => EtcdRequest.Txn(
                ParseArray(root, "compare", ParseCompare),
                ParseArray(root, "success", ParseWrite),
                ParseArray(root, "failure", ParseWrite)),
            _ => throw new FormatException($"\"op\" must be get, put, delete or txn, found \"{kind}\""),
        };
    }

    private static EtcdResponse ParseResponse(JsonElement root, EtcdRequestKind kind)
    {
        string? value = null;
        if (kind == EtcdRequestKind.Get)
        {
            // A get's "value" is its result: a string, or null when the key was absent.
            var element = Required(root, "value");
            value = element.ValueKind == JsonValueKind.Null ? null : element.GetString();
        }

        return new EtcdResponse(
            IsUnknown: false,
            Revision: OptionalInt64(root, "revision"),
            Value: value,
            ModRevision: OptionalInt64(root, "mod_revision"),
            Deleted: OptionalInt64(root, "deleted"),
            Succeeded: root.TryGetProperty("succeeded", out var succeeded) && succeeded.ValueKind != JsonValueKind.Null ? succeeded.GetBoolean() : null);
    }

    private static EtcdCompare ParseCompare(JsonElement element)
    {
        var target = RequiredString(element, "target") switch
        {
            "value" => EtcdCompareTarget.Value,
            "mod_revision" => EtcdCompareTarget.ModRevision,
            "create_revision" => EtcdCompareTarget.CreateRevision,
            "version" => EtcdCompareTarget.Version,
            var other => throw new FormatException($"compare \"target\" must be value, mod_revision, create_revision or version, found \"{other}\""),
        };
        var result = RequiredString(element, "result") switch
        {
            "equal" => EtcdCompareResult.Equal,
            "not_equal" => EtcdCompareResult.NotEqual,
            "less" => EtcdCompareResult.Less,
            "greater" => EtcdCompareResult.Greater,
            var other => throw new FormatException($"compare \"result\" must be equal, not_equal, less or greater, found \"{other}\""),
        };
        var operand = Required(element, "value");
        return target == EtcdCompareTarget.Value
            ? new EtcdCompare(RequiredString(element, "key"), target, result, operand.GetString(), 0)
            : new EtcdCompare(RequiredString(element, "key"), target, result, null, operand.GetInt64());
    }

    private static EtcdTxnOperation ParseWrite(JsonElement element) => RequiredString(element, "op") switch
    {
        "put" => new EtcdTxnOperation(EtcdRequestKind.Put, RequiredString(element, "key"), RequiredString(element, "value")),
        "delete" => new EtcdTxnOperation(EtcdRequestKind.Delete, RequiredString(element, "key"), null),
        var other => throw new FormatException($"txn branches may hold put or delete, found \"{other}\""),
    };

    private static T[] ParseArray<T>(JsonElement root, string name, Func<JsonElement, T> parse)
    {
        if (!root.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        return element.EnumerateArray().Select(parse).ToArray();
    }

    private static JsonElement Required(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) ? value : throw new FormatException($"missing \"{name}\"");

    private static string RequiredString(JsonElement element, string name) =>
        Required(element, name).GetString() ?? throw new FormatException($"\"{name}\" must be a string");

    private static long? OptionalInt64(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value.GetInt64() : null;
}
