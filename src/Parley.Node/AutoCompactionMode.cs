namespace Parley.Node;

/// <summary>How the leader compacts history on its own (etcd's <c>--auto-compaction-mode</c>).</summary>
public enum AutoCompactionMode
{
    /// <summary>Never: history is kept until a client compacts it (etcd's default, retention 0).</summary>
    Off,

    /// <summary>Keep what was written in the last <see cref="NodeOptions.AutoCompactionRetention"/> ticks.</summary>
    Periodic,

    /// <summary>Keep the last <see cref="NodeOptions.AutoCompactionRetention"/> revisions.</summary>
    Revision,
}
