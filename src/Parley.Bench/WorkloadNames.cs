namespace Parley.Bench;

/// <summary>Command-line names of the workloads (kebab case, as printed in tables and JSON).</summary>
public static class WorkloadNames
{
    private static readonly (Workload Workload, string Name)[] Table =
    [
        (Workload.Put, "put"),
        (Workload.Get, "get"),
        (Workload.GetSerializable, "get-serializable"),
        (Workload.Range100, "range-100"),
        (Workload.Range1000, "range-1000"),
        (Workload.TxnCas, "txn-cas"),
        (Workload.Mixed, "mixed"),
        (Workload.Watch, "watch"),
        (Workload.LeaseKeepAlive, "lease-keepalive"),
    ];

    public static IEnumerable<string> All => Table.Select(entry => entry.Name);

    public static string Name(Workload workload) => Table.First(entry => entry.Workload == workload).Name;

    public static bool TryParse(string text, out Workload workload)
    {
        foreach (var (candidate, name) in Table)
        {
            if (string.Equals(name, text.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                workload = candidate;
                return true;
            }
        }
        workload = default;
        return false;
    }

    /// <summary>Workloads that read keys and so need the key space written first.</summary>
    public static bool NeedsPreload(Workload workload) =>
        workload is Workload.Get or Workload.GetSerializable or Workload.Range100 or Workload.Range1000 or Workload.Mixed;

    /// <summary>Keys a range of this workload covers (1 for single-key operations).</summary>
    public static int KeysPerOperation(Workload workload) => workload switch
    {
        Workload.Range100 => 100,
        Workload.Range1000 => 1000,
        _ => 1,
    };
}
