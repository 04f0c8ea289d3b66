namespace Parley.Mvcc;

/// <summary>
/// The part of etcdserverpb.ResponseHeader the keyspace decides: the revision. The server fills
/// cluster_id, member_id and raft_term. Responses nested in a Txn carry only this; a nested Txn's
/// own header is empty (revision 0), as in etcd.
/// </summary>
public readonly record struct ResponseHeader(long Revision);
