namespace Parley.Checker.Models.Etcd;

/// <summary>Requests the etcd model understands.</summary>
public enum EtcdRequestKind
{
    Get,
    Put,
    Delete,
    Txn,
}
