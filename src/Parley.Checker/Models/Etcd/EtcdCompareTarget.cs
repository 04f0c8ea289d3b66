namespace Parley.Checker.Models.Etcd;

/// <summary>What a Txn comparison looks at (etcd's Compare.target).</summary>
public enum EtcdCompareTarget
{
    Value,
    ModRevision,
    CreateRevision,
    Version,
}
