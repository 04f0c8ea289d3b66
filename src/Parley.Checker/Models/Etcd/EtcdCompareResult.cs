namespace Parley.Checker.Models.Etcd;

/// <summary>How a Txn comparison relates the key's field to the operand (etcd's Compare.result).</summary>
public enum EtcdCompareResult
{
    Equal,
    NotEqual,
    Less,
    Greater,
}
