using System.Globalization;

namespace Parley.Server;

/// <summary>
/// Turns flag values (by etcd's flag name, without dashes) into validated <see cref="ServerOptions"/>. Sources are
/// merged by the caller in precedence order: command line, then PARLEY_&lt;FLAG&gt; environment variables, then the
/// YAML config file.
/// </summary>
public static class ServerOptionsBuilder
{
    public static readonly IReadOnlyList<string> FlagNames =
    [
        "name", "data-dir", "listen-client-urls", "advertise-client-urls", "listen-peer-urls",
        "initial-advertise-peer-urls", "initial-cluster", "initial-cluster-state", "initial-cluster-token",
        "heartbeat-interval", "election-timeout", "snapshot-count", "max-request-bytes", "quota-backend-bytes",
        "listen-metrics-urls", "log-level", "log-format", "experimental-watch-progress-notify-interval",
        "experimental-lease-checkpoint-interval", "auth-token-ttl", "experimental-wal-sync-off-loop", "experimental-idle-turns-on-callers",
        "auto-compaction-mode", "auto-compaction-retention",
    ];

    /// <summary>The environment variable for a flag: PARLEY_ + upper case, dashes as underscores.</summary>
    public static string EnvironmentVariable(string flag) => "PARLEY_" + flag.Replace('-', '_').ToUpperInvariant();

    /// <summary>Merges sources; earlier sources win.</summary>
    public static Dictionary<string, string> Merge(params IReadOnlyDictionary<string, string>[] sources)
    {
        var merged = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var source in sources)
        {
            foreach (var (key, value) in source)
            {
                merged.TryAdd(key, value);
            }
        }
        return merged;
    }

    /// <summary>Reads etcd's flat YAML config file (<c>name: value</c> lines; lists may be comma-separated).</summary>
    public static Dictionary<string, string> ReadConfigFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new ServerOptionsException($"--config-file: {path} does not exist");
        }
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var lineNumber = 0;
        foreach (var rawLine in File.ReadLines(path))
        {
            lineNumber++;
            var line = rawLine.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                throw new ServerOptionsException($"--config-file: {path}:{lineNumber}: expected 'name: value'");
            }
            var key = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            var comment = value.IndexOf(" #", StringComparison.Ordinal);
            if (comment >= 0)
            {
                value = value[..comment].TrimEnd();
            }
            if (value.Length >= 2 && (value[0] == '\'' || value[0] == '"') && value[^1] == value[0])
            {
                value = value[1..^1];
            }
            if (!FlagNames.Contains(key))
            {
                throw new ServerOptionsException($"--config-file: {path}:{lineNumber}: unknown setting '{key}' (known: {string.Join(", ", FlagNames)})");
            }
            if (value.Length > 0 && value != "null" && value != "~")
            {
                values[key] = value;
            }
        }
        return values;
    }

    public static ServerOptions Build(IReadOnlyDictionary<string, string> values)
    {
        foreach (var key in values.Keys)
        {
            if (!FlagNames.Contains(key))
            {
                throw new ServerOptionsException($"unknown setting '{key}'");
            }
        }
        var defaults = new ServerOptions();
        var name = Get(values, "name") ?? defaults.Name;
        var listenClient = Urls(values, "listen-client-urls") ?? defaults.ListenClientUrls;
        var listenPeer = Urls(values, "listen-peer-urls") ?? defaults.ListenPeerUrls;
        var advertiseClient = Urls(values, "advertise-client-urls") ?? (values.ContainsKey("listen-client-urls") ? listenClient : defaults.AdvertiseClientUrls);
        var advertisePeer = Urls(values, "initial-advertise-peer-urls") ?? (values.ContainsKey("listen-peer-urls") ? listenPeer : defaults.InitialAdvertisePeerUrls);
        var cluster = values.TryGetValue("initial-cluster", out var clusterText)
            ? ParseCluster(clusterText)
            : [(name, advertisePeer.ToArray())];
        var self = cluster.Where(member => member.Name == name).ToList();
        var state = Get(values, "initial-cluster-state") ?? "new";
        if (state is not ("new" or "existing"))
        {
            throw new ServerOptionsException($"--initial-cluster-state: '{state}' is neither 'new' nor 'existing'");
        }
        if (self.Count == 0)
        {
            throw new ServerOptionsException($"--initial-cluster has no member named '{name}' (--name); it lists {string.Join(", ", cluster.Select(m => m.Name))}");
        }
        var selfUrls = self[0].PeerUrls.Select(MemberIdentity.Normalize).Order(StringComparer.Ordinal);
        var advertised = advertisePeer.Select(MemberIdentity.Normalize).Order(StringComparer.Ordinal);
        if (!selfUrls.SequenceEqual(advertised))
        {
            throw new ServerOptionsException(
                $"--initial-cluster gives '{name}' the peer URLs {string.Join(",", self[0].PeerUrls.Select(MemberIdentity.Normalize))} " +
                $"but --initial-advertise-peer-urls is {string.Join(",", advertisePeer.Select(MemberIdentity.Normalize))}; they must match");
        }
        var heartbeat = Int(values, "heartbeat-interval", defaults.HeartbeatIntervalMs, 1, 60_000);
        var election = Int(values, "election-timeout", defaults.ElectionTimeoutMs, 1, 600_000);
        if (election < 5 * heartbeat)
        {
            throw new ServerOptionsException($"--election-timeout ({election} ms) must be at least 5 times --heartbeat-interval ({heartbeat} ms)");
        }
        var logFormat = Get(values, "log-format") ?? defaults.LogFormat;
        if (logFormat is not ("text" or "json"))
        {
            throw new ServerOptionsException($"--log-format: '{logFormat}' is neither 'text' nor 'json'");
        }
        var logLevel = Get(values, "log-level") ?? defaults.LogLevel;
        if (logLevel is not ("debug" or "info" or "warn" or "error" or "panic" or "fatal"))
        {
            throw new ServerOptionsException($"--log-level: '{logLevel}' is not one of debug, info, warn, error, panic, fatal");
        }
        var compactionMode = Get(values, "auto-compaction-mode") ?? defaults.AutoCompactionMode;
        if (compactionMode is not ("periodic" or "revision"))
        {
            throw new ServerOptionsException($"--auto-compaction-mode: '{compactionMode}' is neither 'periodic' nor 'revision'");
        }
        var (compactionPeriod, compactionRevisions) = CompactionRetention(compactionMode, Get(values, "auto-compaction-retention"));
        return new ServerOptions
        {
            Name = name,
            DataDirectory = Get(values, "data-dir") ?? (name + ".parley"),
            ListenClientUrls = listenClient,
            AdvertiseClientUrls = advertiseClient,
            ListenPeerUrls = listenPeer,
            InitialAdvertisePeerUrls = advertisePeer,
            InitialCluster = cluster,
            InitialClusterState = state,
            InitialClusterToken = Get(values, "initial-cluster-token") ?? defaults.InitialClusterToken,
            HeartbeatIntervalMs = heartbeat,
            ElectionTimeoutMs = election,
            SnapshotCount = (ulong)Long(values, "snapshot-count", (long)defaults.SnapshotCount, 1, long.MaxValue),
            MaxRequestBytes = Int(values, "max-request-bytes", defaults.MaxRequestBytes, 1, 512 * 1024 * 1024),
            QuotaBackendBytes = Long(values, "quota-backend-bytes", defaults.QuotaBackendBytes, 0, long.MaxValue) is var quota && quota == 0 ? defaults.QuotaBackendBytes : quota,
            ListenMetricsUrls = Urls(values, "listen-metrics-urls") ?? [],
            LogLevel = logLevel,
            LogFormat = logFormat,
            WatchProgressNotifyInterval = Duration(values, "experimental-watch-progress-notify-interval", defaults.WatchProgressNotifyInterval),
            LeaseCheckpointInterval = Duration(values, "experimental-lease-checkpoint-interval", defaults.LeaseCheckpointInterval),
            AuthTokenTtlSeconds = Int(values, "auth-token-ttl", defaults.AuthTokenTtlSeconds, 1, int.MaxValue),
            WalSyncOffLoop = Bool(values, "experimental-wal-sync-off-loop", defaults.WalSyncOffLoop),
            IdleTurnsOnCallers = Bool(values, "experimental-idle-turns-on-callers", defaults.IdleTurnsOnCallers),
            AutoCompactionMode = compactionMode,
            AutoCompactionPeriod = compactionPeriod,
            AutoCompactionRevisions = compactionRevisions,
        };
    }

    /// <summary>
    /// --auto-compaction-retention as etcd reads it: a whole number is hours in the periodic mode and revisions in the
    /// revision mode; the periodic mode also takes a Go duration ("30m", "1h30m"). 0 (the default) is off.
    /// </summary>
    private static (TimeSpan Period, long Revisions) CompactionRetention(string mode, string? text)
    {
        if (text is null)
        {
            return (TimeSpan.Zero, 0);
        }
        var isWhole = long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var whole);
        if (mode == "revision")
        {
            return isWhole
                ? (TimeSpan.Zero, whole)
                : throw new ServerOptionsException($"--auto-compaction-retention: '{text}' is not a whole number of revisions (the mode is 'revision')");
        }
        const long hoursMax = 24L * 365 * 100;
        if (isWhole)
        {
            return whole <= hoursMax
                ? (TimeSpan.FromHours(whole), 0)
                : throw new ServerOptionsException($"--auto-compaction-retention: '{text}' hours is more than {hoursMax}");
        }
        if (TryParseGoDuration(text, out var period) && period.TotalHours <= hoursMax)
        {
            return (period, 0);
        }
        throw new ServerOptionsException($"--auto-compaction-retention: '{text}' is neither a whole number of hours nor a duration like 30m, 1h or 1h30m");
    }

    private static string? Get(IReadOnlyDictionary<string, string> values, string key) =>
        values.TryGetValue(key, out var value) && value.Length > 0 ? value : null;

    private static Uri[]? Urls(IReadOnlyDictionary<string, string> values, string key)
    {
        var text = Get(values, key);
        if (text is null)
        {
            return null;
        }
        return text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(part => Url(key, part)).ToArray();
    }

    private static Uri Url(string key, string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || url.IsDefaultPort && !text.Contains(":" + url.Port, StringComparison.Ordinal))
        {
            throw new ServerOptionsException($"--{key}: '{text}' is not a URL like http://127.0.0.1:2379 (scheme http, host and port)");
        }
        if (url.Scheme == "https")
        {
            throw new ServerOptionsException($"--{key}: '{text}': TLS is not supported yet; use http://");
        }
        return url;
    }

    private static List<(string Name, Uri[] PeerUrls)> ParseCluster(string text)
    {
        var byName = new Dictionary<string, List<Uri>>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new ServerOptionsException($"--initial-cluster: '{part}' is not name=url");
            }
            var memberName = part[..equals];
            if (!byName.TryGetValue(memberName, out var urls))
            {
                byName[memberName] = urls = [];
                order.Add(memberName);
            }
            urls.Add(Url("initial-cluster", part[(equals + 1)..]));
        }
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var memberName in order)
        {
            foreach (var url in byName[memberName])
            {
                if (!seen.TryAdd(MemberIdentity.Normalize(url), memberName))
                {
                    throw new ServerOptionsException($"--initial-cluster: peer URL {MemberIdentity.Normalize(url)} is given to both '{seen[MemberIdentity.Normalize(url)]}' and '{memberName}'");
                }
            }
        }
        return order.Select(memberName => (memberName, byName[memberName].ToArray())).ToList();
    }

    /// <summary>A Go duration as etcd takes it ("10m", "1s", "500ms", "1m30s"); positive.</summary>
    private static TimeSpan Duration(IReadOnlyDictionary<string, string> values, string key, TimeSpan fallback)
    {
        var text = Get(values, key);
        if (text is null)
        {
            return fallback;
        }
        if (TryParseGoDuration(text, out var duration) && duration > TimeSpan.Zero)
        {
            return duration;
        }
        throw new ServerOptionsException($"--{key}: '{text}' is not a positive duration like 10m, 5s, 500ms or 1m30s");
    }

    internal static bool TryParseGoDuration(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        var position = 0;
        double totalMs = 0;
        while (position < text.Length)
        {
            var start = position;
            while (position < text.Length && (char.IsAsciiDigit(text[position]) || text[position] == '.'))
            {
                position++;
            }
            if (position == start || !double.TryParse(text.AsSpan(start, position - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                return false;
            }
            var unitStart = position;
            while (position < text.Length && !char.IsAsciiDigit(text[position]) && text[position] != '.')
            {
                position++;
            }
            var unitMs = text[unitStart..position] switch
            {
                "ns" => 1e-6,
                "us" or "µs" => 1e-3,
                "ms" => 1.0,
                "s" => 1000.0,
                "m" => 60_000.0,
                "h" => 3_600_000.0,
                _ => double.NaN,
            };
            if (double.IsNaN(unitMs))
            {
                return false;
            }
            totalMs += number * unitMs;
        }
        if (text.Length == 0 || totalMs > TimeSpan.MaxValue.TotalMilliseconds / 2)
        {
            return false;
        }
        duration = TimeSpan.FromMilliseconds(totalMs);
        return true;
    }

    private static int Int(IReadOnlyDictionary<string, string> values, string key, int fallback, int min, int max) =>
        (int)Long(values, key, fallback, min, max);

    private static long Long(IReadOnlyDictionary<string, string> values, string key, long fallback, long min, long max)
    {
        var text = Get(values, key);
        if (text is null)
        {
            return fallback;
        }
        if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw new ServerOptionsException($"--{key}: '{text}' is not a whole number between {min} and {max}");
        }
        return value;
    }

    private static bool Bool(IReadOnlyDictionary<string, string> values, string key, bool fallback) => Get(values, key) switch
    {
        null => fallback,
        "true" => true,
        "false" => false,
        var text => throw new ServerOptionsException($"--{key}: '{text}' is not true or false"),
    };
}
