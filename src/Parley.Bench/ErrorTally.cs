using System.Collections.Concurrent;

namespace Parley.Bench;

/// <summary>Errors counted by kind, bounded in the number of kinds kept (the rest are counted under "other").</summary>
public sealed class ErrorTally
{
    public const int KindsMax = 32;
    private const string OtherKind = "other";

    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);
    private long _total;

    public long Total => Interlocked.Read(ref _total);

    public void Add(string kind)
    {
        Interlocked.Increment(ref _total);
        if (!_counts.ContainsKey(kind) && _counts.Count >= KindsMax)
        {
            kind = OtherKind;
        }
        _counts.AddOrUpdate(kind, 1, (_, count) => count + 1);
    }

    public IReadOnlyDictionary<string, long> Snapshot() =>
        new SortedDictionary<string, long>(_counts, StringComparer.Ordinal);
}
