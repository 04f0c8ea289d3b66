namespace Parley.Checker.Models.Etcd;

/// <summary>One live key in the etcd model, with etcd's per-key revision bookkeeping.</summary>
public readonly record struct EtcdKeyValue(string Value, long CreateRevision, long ModRevision, long Version);
