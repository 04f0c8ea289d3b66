namespace Parley.Checker.Search;

/// <summary>
/// A model whose objects are independent (P-compositionality, Horn and Kroening): the history is
/// linearizable iff each object's sub-history is, each checked from <see cref="IModel{TState, TInput, TOutput}.InitialState"/>.
/// Models with state shared between keys (etcd's global revision) must not implement this.
/// </summary>
public interface IPartitionableModel<TInput>
{
    /// <summary>The object (key) an operation touches.</summary>
    string PartitionKey(TInput input);
}
