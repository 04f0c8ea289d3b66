namespace Parley.Checker.Models.Etcd;

/// <summary>
/// A single-key get, put or delete, or a Txn (all <see cref="Compares"/> hold: apply <see cref="Success"/>,
/// else <see cref="Failure"/>). Compare-and-set is a Txn with one compare and one put.
/// </summary>
public sealed record EtcdRequest(
    EtcdRequestKind Kind,
    string Key,
    string? Value,
    IReadOnlyList<EtcdCompare> Compares,
    IReadOnlyList<EtcdTxnOperation> Success,
    IReadOnlyList<EtcdTxnOperation> Failure)
{
    public static EtcdRequest Get(string key) => new(EtcdRequestKind.Get, key, null, [], [], []);

    public static EtcdRequest Put(string key, string value) => new(EtcdRequestKind.Put, key, value, [], [], []);

    public static EtcdRequest Delete(string key) => new(EtcdRequestKind.Delete, key, null, [], [], []);

    public static EtcdRequest Txn(IReadOnlyList<EtcdCompare> compares, IReadOnlyList<EtcdTxnOperation> success, IReadOnlyList<EtcdTxnOperation> failure) =>
        new(EtcdRequestKind.Txn, string.Empty, null, compares, success, failure);

    /// <summary>Put <paramref name="value"/> if the key's mod revision is <paramref name="expectedModRevision"/> (0: the key does not exist).</summary>
    public static EtcdRequest CompareAndSet(string key, long expectedModRevision, string value) =>
        Txn([new EtcdCompare(key, EtcdCompareTarget.ModRevision, EtcdCompareResult.Equal, null, expectedModRevision)], [new EtcdTxnOperation(EtcdRequestKind.Put, key, value)], []);
}
