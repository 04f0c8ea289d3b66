using Parley.Checker.Models.Etcd;
using Parley.Checker.Models.KeyValue;
using Parley.Checker.Models.Register;
using Parley.Checker.Search;

namespace Parley.Checker.Formats;

/// <summary>Reads a history file in a given format and checks it with that format's model.</summary>
public static class HistoryFileChecker
{
    /// <summary>Parses the command-line name of a format (jepsen-register, kv-edn, parley).</summary>
    public static bool TryParseFormat(string name, out HistoryFormat format)
    {
        switch (name)
        {
            case "jepsen-register":
                format = HistoryFormat.JepsenRegister;
                return true;
            case "kv-edn":
                format = HistoryFormat.KeyValueEdn;
                return true;
            case "parley":
                format = HistoryFormat.Parley;
                return true;
            default:
                format = default;
                return false;
        }
    }

    /// <summary>Checks one history. Throws <see cref="HistoryParseException"/> on malformed input and <see cref="IOException"/> when the file cannot be read.</summary>
    public static CheckResult Check(string path, HistoryFormat format, CheckOptions options)
    {
        using var reader = File.OpenText(path);
        return Check(reader, path, format, options);
    }

    /// <summary>Checks one history read from <paramref name="reader"/>; <paramref name="source"/> names it in errors.</summary>
    public static CheckResult Check(TextReader reader, string source, HistoryFormat format, CheckOptions options) => format switch
    {
        HistoryFormat.JepsenRegister => LinearizabilityChecker.Check(RegisterModel.Instance, JepsenRegisterParser.Parse(reader, source), options),
        HistoryFormat.KeyValueEdn => LinearizabilityChecker.Check(KeyValueModel.Instance, KeyValueEdnParser.Parse(reader, source), options),
        HistoryFormat.Parley => LinearizabilityChecker.Check(EtcdModel.Instance, ParleyHistoryParser.Parse(reader, source), options),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "unknown history format"),
    };
}
