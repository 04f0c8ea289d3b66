namespace Parley.Bench;

/// <summary>What each client sends. Names on the command line: see <see cref="WorkloadNames"/>.</summary>
public enum Workload
{
    /// <summary>Put of a random key among the key count, value of the value size (overwrites once keys exist).</summary>
    Put,

    /// <summary>Range of one random preloaded key, linearizable (ReadIndex).</summary>
    Get,

    /// <summary>Range of one random preloaded key with serializable = true (served from the member's state).</summary>
    GetSerializable,

    /// <summary>Range over a prefix that covers 100 preloaded keys (linearizable).</summary>
    Range100,

    /// <summary>Range over a prefix that covers 1,000 preloaded keys (linearizable).</summary>
    Range1000,

    /// <summary>Txn compare-and-swap: if mod_revision(key) == last seen then put else get (each client owns its keys).</summary>
    TxnCas,

    /// <summary>Linearizable gets and puts in the ratio given by --read-ratio.</summary>
    Mixed,

    /// <summary>
    /// Watch fan-out: --watchers streams each watch the whole key space while the clients put (timestamped values);
    /// measures events delivered per second and the delay from a put's send to each watcher's receipt.
    /// </summary>
    Watch,

    /// <summary>
    /// Lease keep-alives: each client grants its share of --leases leases, then sends keep-alives for them in turn
    /// on its own LeaseKeepAlive stream, one in flight; an operation is one keep-alive answered with a live TTL.
    /// </summary>
    LeaseKeepAlive,
}
