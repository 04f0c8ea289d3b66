namespace Parley.Storage;

/// <summary>
/// How a host times the WAL's fdatasyncs (etcd_disk_wal_fsync_duration_seconds): the clock the log reads just before
/// and just after each sync, and the callback that receives the duration and the bytes that write carried. The log
/// only reports timings and never decides anything from them, so a run with or without a timer does the same I/O.
/// The simulator sets none.
/// </summary>
public sealed record WalSyncTimer(TimeProvider Clock, Action<TimeSpan, long> Synced);
