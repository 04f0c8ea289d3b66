namespace Parley.Mvcc;

/// <summary>etcdserverpb.PutResponse.</summary>
public sealed class PutResponse
{
    public ResponseHeader Header { get; init; }

    /// <summary>The key's previous value when asked and the key existed.</summary>
    public KeyValue? PrevKv { get; init; }
}
