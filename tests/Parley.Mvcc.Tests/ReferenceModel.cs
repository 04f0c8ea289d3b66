namespace Parley.Mvcc.Tests;

/// <summary>
/// A deliberately naive model of etcd's keyspace (string keys, full history, no index) that the
/// model-based test runs side by side with the store.
/// </summary>
internal sealed class ReferenceModel
{
    public long Revision { get; private set; } = 1;

    public long CompactRevision { get; private set; } = -1;

    public Dictionary<string, List<ModelVersion>> History { get; } = new(StringComparer.Ordinal);

    public List<ModelEvent> Events { get; } = [];

    public ModelVersion? Visible(string key, long revision)
    {
        if (!History.TryGetValue(key, out List<ModelVersion>? versions))
        {
            return null;
        }
        ModelVersion? found = null;
        foreach (ModelVersion version in versions)
        {
            if (version.Mod <= revision)
            {
                found = version;
            }
        }
        return found is { Value: not null } ? found : null;
    }

    public IEnumerable<string> KeysIn(string key, string rangeEnd)
    {
        foreach (string candidate in History.Keys.OrderBy(k => k, StringComparer.Ordinal))
        {
            bool inside = rangeEnd.Length == 0 ? candidate == key
                : rangeEnd == "\0" ? string.CompareOrdinal(candidate, key) >= 0
                : string.CompareOrdinal(candidate, key) >= 0 && string.CompareOrdinal(candidate, rangeEnd) < 0;
            if (inside)
            {
                yield return candidate;
            }
        }
    }

    public ModelVersion? Put(string key, string value, ref bool changed)
    {
        long revision = Revision + 1;
        ModelVersion? previous = Visible(key, revision);
        var version = new ModelVersion(revision, previous?.Create ?? revision, (previous?.Version ?? 0) + 1, value);
        Append(key, version);
        Events.Add(new ModelEvent(revision, key, IsDelete: false));
        changed = true;
        return previous;
    }

    public int Delete(string key, string rangeEnd, ref bool changed)
    {
        long revision = Revision + 1;
        int deleted = 0;
        foreach (string candidate in KeysIn(key, rangeEnd).ToList())
        {
            if (Visible(candidate, revision) is null)
            {
                continue;
            }
            Append(candidate, new ModelVersion(revision, 0, 0, null));
            Events.Add(new ModelEvent(revision, candidate, IsDelete: true));
            deleted++;
            changed = true;
        }
        return deleted;
    }

    public void FinishWrite(bool changed)
    {
        if (changed)
        {
            Revision++;
        }
    }

    public string? Compact(long revision)
    {
        if (revision <= CompactRevision)
        {
            return MvccErrors.CompactedMessage;
        }
        if (revision > Revision)
        {
            return MvccErrors.FutureRevisionMessage;
        }
        CompactRevision = revision;
        return null;
    }

    private void Append(string key, ModelVersion version)
    {
        if (!History.TryGetValue(key, out List<ModelVersion>? versions))
        {
            versions = [];
            History.Add(key, versions);
        }
        versions.Add(version);
    }
}

internal sealed record ModelVersion(long Mod, long Create, long Version, string? Value);

internal sealed record ModelEvent(long Revision, string Key, bool IsDelete);
