namespace Parley.Checker.Models.Etcd;

/// <summary>A write inside a Txn branch: a put (with <see cref="Value"/>) or a delete of one key.</summary>
public sealed record EtcdTxnOperation(EtcdRequestKind Kind, string Key, string? Value);
