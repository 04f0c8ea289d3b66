namespace Parley.Checker.Models.Etcd;

/// <summary>
/// One Txn comparison. <see cref="ValueOperand"/> is used when the target is the value, otherwise
/// <see cref="RevisionOperand"/>. As in etcd, a missing key has revisions and version 0, and any
/// comparison of a missing key's value is false.
/// </summary>
public sealed record EtcdCompare(string Key, EtcdCompareTarget Target, EtcdCompareResult Result, string? ValueOperand, long RevisionOperand);
