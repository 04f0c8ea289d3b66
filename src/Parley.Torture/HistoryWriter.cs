using System.Text;
using System.Text.Json;

namespace Parley.Torture;

/// <summary>Writes recorded operations as Parley's JSON-lines history (docs/history-format.md), one client's lines in its order.</summary>
public static class HistoryWriter
{
    public static void Write(string path, IEnumerable<HistoryOperation> operations)
    {
        using var stream = File.Create(path);
        Write(stream, operations);
    }

    public static void Write(Stream stream, IEnumerable<HistoryOperation> operations)
    {
        var newline = "\n"u8.ToArray();
        foreach (var operation in operations.OrderBy(operation => operation.CallNs))
        {
            using (var json = new Utf8JsonWriter(stream))
            {
                WriteOne(json, operation);
            }
            stream.Write(newline);
        }
    }

    public static string ToJsonLine(HistoryOperation operation)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            WriteOne(json, operation);
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteOne(Utf8JsonWriter json, HistoryOperation operation)
    {
        json.WriteStartObject();
        json.WriteNumber("client", operation.Client);
        json.WriteString("op", operation.Op switch
        {
            HistoryOpKind.Get => "get",
            HistoryOpKind.Put => "put",
            HistoryOpKind.Delete => "delete",
            _ => "txn",
        });
        if (operation.Op == HistoryOpKind.Txn)
        {
            json.WriteStartArray("compare");
            json.WriteStartObject();
            json.WriteString("key", operation.Key);
            json.WriteString("target", operation.CompareTarget);
            json.WriteString("result", "equal");
            if (operation.CompareTarget == "value")
            {
                json.WriteString("value", operation.CompareValue);
            }
            else
            {
                json.WriteNumber("value", operation.CompareRevision);
            }
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteStartArray("success");
            foreach (var (key, value) in operation.SuccessPuts)
            {
                json.WriteStartObject();
                json.WriteString("op", "put");
                json.WriteString("key", key);
                json.WriteString("value", value);
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        else
        {
            json.WriteString("key", operation.Key);
        }
        if (operation.Op == HistoryOpKind.Put)
        {
            json.WriteString("value", operation.Value);
        }
        json.WriteNumber("call", operation.CallNs);
        if (operation.ReturnNs is { } returned)
        {
            json.WriteNumber("return", returned);
        }
        json.WriteString("outcome", operation.Outcome switch
        {
            HistoryOutcome.Ok => "ok",
            HistoryOutcome.Unknown => "unknown",
            _ => "fail",
        });
        if (operation.Outcome == HistoryOutcome.Ok)
        {
            if (operation.Op == HistoryOpKind.Get)
            {
                if (operation.Value is null)
                {
                    json.WriteNull("value");
                }
                else
                {
                    json.WriteString("value", operation.Value);
                }
                if (operation.ModRevision is { } modRevision)
                {
                    json.WriteNumber("mod_revision", modRevision);
                }
            }
            if (operation.Revision is { } revision)
            {
                json.WriteNumber("revision", revision);
            }
            if (operation.Deleted is { } deleted)
            {
                json.WriteNumber("deleted", deleted);
            }
            if (operation.Succeeded is { } succeeded)
            {
                json.WriteBoolean("succeeded", succeeded);
            }
        }
        json.WriteStartObject("meta");
        json.WriteNumber("member", operation.Member);
        if (operation.Error is not null)
        {
            json.WriteString("error", operation.Error);
        }
        if (operation.Resolution is not null)
        {
            json.WriteString("resolved", operation.Resolution);
        }
        json.WriteEndObject();
        json.WriteEndObject();
    }
}
