using Parley.Mvcc;
using Parley.Raft;

namespace Parley.Node;

/// <summary>
/// The compactor (etcd's <c>--auto-compaction-mode</c> and <c>--auto-compaction-retention</c>), in ticks. Periodic: every
/// member samples its revision every tenth of the compaction interval (the retention, at most an hour); the leader
/// compacts to the newest sample taken at least a retention ago, then again each interval after a success, or a
/// sample interval after a failure. Revision: every <see cref="NodeOptions.AutoCompactionRevisionIntervalTicks"/>, the
/// leader compacts to its revision less the retention. A compaction is an ordinary write through Raft; one at a time.
/// </summary>
public sealed partial class ClusterNode
{
    private const int CompactionSamplesPerInterval = 10;
    private const int MillisecondsPerHour = 3_600_000;

    private readonly Queue<(long Tick, long Revision)> _compactionSamples = new();
    private (long Tick, long Revision)? _compactionBase;
    private long _nextCompactionSampleTick;
    private long _nextCompactionTick = -1;
    private bool _compactionInFlight;

    /// <summary>Runs on the loop thread when the compactor proposes a compaction to this revision.</summary>
    public Action<long>? AutoCompactionStarting { get; set; }

    /// <summary>
    /// Runs on the loop thread when the compactor's compaction to this revision ends: the error's message, or null when
    /// it was applied (or the history was already compacted that far).
    /// </summary>
    public Action<long, string?>? AutoCompactionFinished { get; set; }

    private void TendAutoCompaction()
    {
        switch (_options.AutoCompactionMode)
        {
            case AutoCompactionMode.Periodic:
                TendPeriodicCompaction();
                break;
            case AutoCompactionMode.Revision:
                TendRevisionCompaction();
                break;
        }
    }

    private void TendPeriodicCompaction()
    {
        var retention = Math.Max(1, _options.AutoCompactionRetention);
        var interval = Math.Min(retention, Math.Max(1, MillisecondsPerHour / _options.TickIntervalMs));
        var sampleInterval = Math.Max(1, interval / CompactionSamplesPerInterval);
        if (_tick >= _nextCompactionSampleTick)
        {
            _compactionSamples.Enqueue((_tick, _store.Revision));
            _nextCompactionSampleTick = _tick + sampleInterval;
        }
        // The base is the newest sample at least a retention old, once there is one; newer samples wait in the queue.
        var oldestKept = _tick - retention;
        while (_compactionSamples.TryPeek(out var next) && next.Tick <= oldestKept)
        {
            _compactionBase = _compactionSamples.Dequeue();
        }
        if (_nextCompactionTick < 0)
        {
            _nextCompactionTick = _tick; // the first compaction waits only for a sample a retention old
        }
        if (_compactionBase is { } compactTo)
        {
            StartAutoCompaction(compactTo.Revision, retryTicks: sampleInterval, intervalTicks: interval);
        }
    }

    private void TendRevisionCompaction()
    {
        var interval = Math.Max(1, _options.AutoCompactionRevisionIntervalTicks);
        if (_nextCompactionTick < 0)
        {
            _nextCompactionTick = _tick + interval; // as etcd: the first look is an interval after the start
        }
        StartAutoCompaction(_store.Revision - _options.AutoCompactionRetention, retryTicks: interval, intervalTicks: interval);
    }

    /// <summary>Proposes a compaction to <paramref name="revision"/> if one is due, this member leads, and it would drop something.</summary>
    private void StartAutoCompaction(long revision, long retryTicks, long intervalTicks)
    {
        if (_tick < _nextCompactionTick || _compactionInFlight || _raft.Role != RaftRole.Leader || revision <= 0 || revision <= _store.CompactRevision)
        {
            return;
        }
        _compactionInFlight = true;
        _nextCompactionTick = _tick + retryTicks; // unless it succeeds
        AutoCompactionStarting?.Invoke(revision);
        SubmitWrite(WriteCommand.Compaction(new CompactionRequest { Revision = revision }), result =>
        {
            _compactionInFlight = false;
            var error = result.Error != NodeError.None ? NodeErrors.Message(result.Error)
                : result.Outcome!.IsSuccess || result.Outcome.Error == MvccError.Compacted ? null
                : result.Outcome.ErrorMessage;
            if (error is null)
            {
                _nextCompactionTick = _tick + intervalTicks;
            }
            AutoCompactionFinished?.Invoke(revision, error);
        });
    }
}
