using Parley.Storage;

namespace Parley.Node;

/// <summary>
/// Where a member's WAL batches are written and synced when <see cref="NodeOptions.SyncOffLoop"/> is on: the node takes
/// each batch on its own thread (<see cref="WriteAheadLog.BeginSync"/>) and goes on with its turns while the batch is
/// written and synced; the acknowledgements that promise it wait for its completion.
/// </summary>
public interface IWalSyncer
{
    /// <summary>
    /// Runs <paramref name="work"/> (possibly on another thread, possibly later): it writes and syncs the batch and then
    /// sends what waited only for it, through the node's transport, whose sends must be safe from that thread. Then calls
    /// <paramref name="completed"/> on the node's thread, unless the node is stopping.
    /// </summary>
    void Start(Action work, Action completed);
}

/// <summary>Writes and syncs each batch at once, on the node's thread (the tests' default: deterministic).</summary>
public sealed class InlineWalSyncer : IWalSyncer
{
    public static readonly InlineWalSyncer Instance = new();

    public void Start(Action work, Action completed)
    {
        work();
        completed();
    }
}
