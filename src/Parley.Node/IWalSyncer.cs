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
    /// Runs <paramref name="batch"/>'s <see cref="WalBatch.Run"/> (possibly on another thread, possibly later), then calls
    /// <paramref name="completed"/> on the node's thread, unless the node is stopping.
    /// </summary>
    void Start(WalBatch batch, Action completed);
}

/// <summary>Writes and syncs each batch at once, on the node's thread (the tests' default: deterministic).</summary>
public sealed class InlineWalSyncer : IWalSyncer
{
    public static readonly InlineWalSyncer Instance = new();

    public void Start(WalBatch batch, Action completed)
    {
        batch.Run();
        completed();
    }
}
