namespace Parley.Torture;

/// <summary>
/// What clients, watchers and lock users dial: the cluster's voters (member slot and client URL), replaced as a whole
/// when the membership changes, so a client that was talking to a removed member fails over to a current one.
/// Thread-safe: the nemesis replaces the list while clients read it.
/// </summary>
public sealed class ClusterEndpoints
{
    private Endpoint[] _current;

    public ClusterEndpoints(IEnumerable<Endpoint> endpoints) => _current = [.. endpoints];

    public IReadOnlyList<Endpoint> Current => Volatile.Read(ref _current);

    public void Set(IEnumerable<Endpoint> endpoints) => Volatile.Write(ref _current, [.. endpoints]);

    /// <summary>One of the current endpoints, chosen with the caller's generator.</summary>
    public Endpoint Pick(Random random)
    {
        var current = Current;
        return current[random.Next(current.Count)];
    }

    /// <summary>The endpoint at a position (modulo the current count): a stable first choice per client.</summary>
    public Endpoint At(int position)
    {
        var current = Current;
        return current[position % current.Count];
    }
}

/// <summary>A member's client URL and its slot in the <see cref="TortureCluster"/>.</summary>
public readonly record struct Endpoint(int Member, string Url);
