namespace Parley.Checker.Formats;

/// <summary>Input formats the checker reads, each tied to its model.</summary>
public enum HistoryFormat
{
    /// <summary>Jepsen/Knossos text log of one register (read, write, cas): <see cref="Models.Register.RegisterModel"/>.</summary>
    JepsenRegister,

    /// <summary>Jepsen EDN op maps of a string map (get, put, append), partitioned per key: <see cref="Models.KeyValue.KeyValueModel"/>.</summary>
    KeyValueEdn,

    /// <summary>Parley's JSON-lines etcd history (docs/history-format.md): <see cref="Models.Etcd.EtcdModel"/>.</summary>
    Parley,
}
