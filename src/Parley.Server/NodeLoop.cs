using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Parley.Mvcc;
using Parley.Node;
using Parley.Raft;
using Parley.Server.Watch;

namespace Parley.Server;

/// <summary>
/// The one thread that owns a <see cref="ClusterNode"/>: it drains the inbox (client requests, peer messages),
/// turns wall-clock time into ticks, runs <see cref="ClusterNode.Process"/>, and publishes a status picture that
/// other threads read. Everything that touches the node goes through <see cref="TryPost"/>. A turn runs under a lock,
/// on this thread, or, while it is idle after a run of one-input turns, on the thread that posts the input (see
/// <see cref="TryRunIdleTurns"/>).
/// </summary>
internal sealed partial class NodeLoop : IDisposable
{
    /// <summary>Inputs waiting for the loop; beyond this, clients get "too many requests" and peer messages drop.</summary>
    public const int InboxItemsMax = 200_000;

    private const int TicksPerTurnMax = 10;

    // After this many turns in a row that drained one input each, the loop is idle: callers run its turns
    // (TryRunIdleTurns), or, with that off, it spins this many rounds longer before it sleeps (SpinForInput; most of
    // them yields of the core; docs/benchmarks.md measures 0, 300 and 1,000 at one and 64 clients).
    private const int SparseTurnsBeforeIdle = 8;
    private const int LongSpinCount = 300;

    // See TryRunIdleTurns: turns a posting thread runs at most before it leaves the rest to the loop thread.
    private const int PosterTurnsMax = 4;

    private readonly ClusterNode _node;
    private readonly TimeSpan _tickInterval;
    private readonly ILogger _logger;
    private readonly Action<Exception> _onFatal;
    private readonly Action _onRemoved;
    private bool _removedReported;
    private readonly ConcurrentQueue<Action<ClusterNode>> _inbox = new();
    // Held by whichever thread runs a turn: the loop thread, or a poster while the loop is idle (TryRunIdleTurns).
    private readonly Lock _turn = new();
    private readonly bool _postersRunIdleTurns;
    // Set by the loop thread while it waits after a run of one-input turns: a poster may then run the turn itself.
    private volatile bool _idle;
    // Set while a poster holds the turn lock (TryRunIdleTurns): it looks at the inbox again before it lets go.
    private volatile bool _posterInTurn;
    private readonly ManualResetEventSlim _wake = new(false);
    private readonly Thread _thread;
    private readonly List<IDisposable> _companions = [];
    // Answers posted during the current turn (turn only); handed to the thread pool together after the turn.
    private List<ILoopReply> _replies = [];
    private int _inboxCount;
    private int _sparseTurns; // turn only
    // The loop thread's clock of ticks (loop thread only).
    private readonly Stopwatch _clock = new();
    private long _ticksDone;
    private int _wakeRequested;
    private volatile bool _stopping;
    private volatile NodeStatus _status;
    private volatile AuthState _authState;
    // Turn only: a callback for when the applied index first reaches an index (the log recovered at start-up).
    private (ulong Index, Action Reached)? _appliedWatch;

    /// <param name="postersRunIdleTurns">While the loop is idle after a run of one-input turns, a thread that posts runs
    /// the turn itself (<see cref="TryPost"/>); off, every turn runs on the loop thread, which spins for input instead.</param>
    public NodeLoop(ClusterNode node, TimeSpan tickInterval, ILogger logger, Action<Exception> onFatal, Action? onRemoved = null,
        bool postersRunIdleTurns = true)
    {
        _postersRunIdleTurns = postersRunIdleTurns;
        _onRemoved = onRemoved ?? (() => { });
        _node = node;
        _tickInterval = tickInterval;
        _logger = logger;
        _onFatal = onFatal;
        _status = node.GetStatus();
        _authState = node.Store.Auth.State;
        Feed = new RevisionFeed(node.Store.Revision, query => QueryAsync(loopNode =>
        {
            var events = new List<Parley.Mvcc.MvccEvent>();
            return (loopNode.Store.ReadEvents(query, events), events);
        }));
        node.StoreChanging = Feed.Publish;
        node.AppliedAheadOfSync = PublishAndReply;
        _thread = new Thread(Run) { IsBackground = true, Name = "parley-node" };
    }

    public NodeStatus Status => _status;

    /// <summary>Users, roles and permissions as of the last applied entry (immutable; safe on any thread).</summary>
    public AuthState AuthState => _authState;

    /// <summary>During a turn: publishes the store's auth state at once (after an auth entry is applied).</summary>
    public void PublishAuthState() => _authState = _node.Store.Auth.State;

    /// <summary>Applied events for watchers and server-side waits, published by this thread after every turn.</summary>
    public RevisionFeed Feed { get; }

    public int InboxCount => Volatile.Read(ref _inboxCount);

    /// <summary>Whether the loop thread waits with its turns left to the callers that post (tests).</summary>
    internal bool IsIdleForCallers => _idle;

    public void Start() => _thread.Start();

    /// <summary>
    /// Before <see cref="Start"/>: <paramref name="reached"/> runs at the end of the first turn that ends with
    /// the applied index at or past <paramref name="index"/> (the server logs when the entries committed before a restart
    /// are applied again).
    /// </summary>
    public void WhenApplied(ulong index, Action reached)
    {
        Invariant.Check(!_thread.IsAlive, "the applied-index watch is set before the loop starts");
        _appliedWatch = (index, reached);
    }

    /// <summary>
    /// Queues work for the loop; false when the inbox is full or the loop stopped. While the loop is idle after a run of
    /// one-input turns (a lone client), the calling thread runs the turn itself (<see cref="TryRunIdleTurns"/>): the
    /// work may then be done, and its answers delivered, before this returns. Callers hold no lock that a turn takes.
    /// </summary>
    public bool TryPost(Action<ClusterNode> work)
    {
        if (_stopping || Interlocked.Increment(ref _inboxCount) > InboxItemsMax)
        {
            if (!_stopping)
            {
                Interlocked.Decrement(ref _inboxCount);
            }
            return false;
        }
        _inbox.Enqueue(work);
        if (_idle && !LoopTurn.IsActive && (TryRunIdleTurns() || _posterInTurn))
        {
            // Done, or another poster's turn is running: its next turn takes this input, or, once it has let go of the
            // lock, it finds the input still there and wakes the loop thread.
            return true;
        }
        if (Interlocked.Exchange(ref _wakeRequested, 1) == 0)
        {
            _wake.Set();
        }
        return true;
    }

    /// <summary>
    /// A poster's turns. A lone client's input comes one item at a time, each after a reply to the last; waking the
    /// loop thread for it costs a thread wake-up per hop of a put (the request, the append on a follower, the
    /// acknowledgement), and spinning for it kept the cores busy, so that the threads on a put's path waited behind
    /// the spinning loops. So while the loop thread waits after such turns, the thread that posts (a request's handler,
    /// a peer connection's reader) takes the turn lock and runs the turn itself, at most a few in a row while input is
    /// waiting. Under load the loop thread is never idle in this way, and every turn stays on it. False when input is
    /// left in the inbox (the lock was taken, the loop woke meanwhile, or more arrived): the caller wakes the loop.
    /// </summary>
    private bool TryRunIdleTurns()
    {
        if (!_turn.TryEnter())
        {
            return false;
        }
        _posterInTurn = true;
        try
        {
            // Only while turns stay sparse: one that drains more (load is rising) leaves the next to the loop thread.
            for (var turns = 0; turns < PosterTurnsMax && _idle && !_stopping && _sparseTurns >= SparseTurnsBeforeIdle
                && Volatile.Read(ref _inboxCount) > 0; turns++)
            {
                Turn(tick: false);
            }
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            Fail(exception); // as a failure on the loop thread: the member stops
        }
        finally
        {
            _posterInTurn = false;
            _turn.Exit();
        }
        // Looked at after letting go: input posted while this thread held the lock, and not taken by its turns, is seen
        // here (its poster saw _posterInTurn set, or woke the loop thread itself).
        return Volatile.Read(ref _inboxCount) == 0;
    }

    /// <summary>
    /// Queues the loop's own follow-up work (a background snapshot finished), past the inbox bound: it must not be
    /// refused under load. False only when the loop stopped.
    /// </summary>
    public bool PostInternal(Action<ClusterNode> work)
    {
        if (_stopping)
        {
            return false;
        }
        Interlocked.Increment(ref _inboxCount);
        _inbox.Enqueue(work);
        if (Interlocked.Exchange(ref _wakeRequested, 1) == 0)
        {
            _wake.Set();
        }
        return true;
    }

    /// <summary>Runs <paramref name="query"/> in a turn of the loop (serializable reads, hashes).</summary>
    public Task<T> QueryAsync<T>(Func<ClusterNode, T> query)
    {
        var reply = new LoopReply<T>(this);
        if (!TryPost(node =>
            {
                try
                {
                    reply.Post(query(node));
                }
                catch (Exception exception) when (exception is not OutOfMemoryException)
                {
                    reply.PostException(exception);
                }
            }))
        {
            reply.TrySetException(new NodeUnavailableException(_stopping ? NodeError.Stopped : NodeError.TooManyRequests));
        }
        return reply.Task;
    }

    /// <summary>During a turn: <paramref name="reply"/> is delivered once the turn ends (<see cref="LoopReply{T}"/>).</summary>
    public void ReplyAfterTurn(ILoopReply reply)
    {
        Invariant.Check(LoopTurn.Owner == this, "loop replies are posted during the loop's turn");
        _replies.Add(reply);
    }

    /// <summary>Stops the loop after the current turn; waiting requests fail with "server stopped".</summary>
    public void Stop()
    {
        _stopping = true;
        _wake.Set();
        if (_thread.IsAlive && Thread.CurrentThread != _thread)
        {
            _thread.Join(TimeSpan.FromSeconds(10));
        }
    }

    /// <summary>Before <see cref="Start"/>: <paramref name="companion"/> (a thread working for the node) is disposed with the loop.</summary>
    public void Own(IDisposable companion) => _companions.Add(companion);

    public void Dispose()
    {
        Stop();
        foreach (var companion in _companions)
        {
            companion.Dispose();
        }
        _companions.Clear();
        _wake.Dispose();
    }

    private void Run()
    {
        _clock.Start();
        try
        {
            while (!_stopping)
            {
                var nextTick = _tickInterval * (_ticksDone + 1) - _clock.Elapsed;
                if (nextTick > TimeSpan.Zero && Volatile.Read(ref _inboxCount) == 0)
                {
                    if (_sparseTurns < SparseTurnsBeforeIdle)
                    {
                        _wake.Wait(nextTick);
                    }
                    else if (_postersRunIdleTurns)
                    {
                        // Idle: a poster runs its own turn (TryRunIdleTurns) and leaves this thread asleep. A post
                        // between the inbox check above and this flag finds it unset and wakes the thread instead.
                        _idle = true;
                        _wake.Wait(nextTick);
                        _idle = false;
                    }
                    else
                    {
                        SpinForInput();
                        _wake.Wait(nextTick);
                    }
                }
                _wake.Reset();
                Volatile.Write(ref _wakeRequested, 0);
                lock (_turn) // a poster may still be in a turn it took while this thread was idle
                {
                    Turn(tick: true);
                }
            }
            lock (_turn)
            {
                using var turn = LoopTurn.Enter(this);
                while (_inbox.TryDequeue(out var pending))
                {
                    Interlocked.Decrement(ref _inboxCount);
                    pending(_node); // requests queued at shutdown are failed by Stop below
                }
                _node.Stop();
            }
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            Fail(exception);
        }
        finally
        {
            lock (_turn)
            {
                DeliverReplies(); // what the last turn (or the stop) answered
            }
            Feed.Stop(); // watchers and waits fail with "server stopped"
        }
    }

    /// <summary>
    /// One turn, on the thread holding the turn lock: the inbox's input, the ticks due (loop thread only), the node's
    /// work, then what the turn applied and answered.
    /// </summary>
    private void Turn(bool tick)
    {
        using var turn = LoopTurn.Enter(this);
        Drain();
        if (tick)
        {
            var ticksDue = (long)(_clock.Elapsed / _tickInterval);
            for (var i = 0; _ticksDone < ticksDue && i < TicksPerTurnMax; i++)
            {
                _node.Tick();
                _ticksDone++;
            }
            _ticksDone = Math.Max(_ticksDone, ticksDue - TicksPerTurnMax); // after a long stall, don't replay every tick
        }
        _node.Process();
        PublishAndReply(); // the turn's state, then its answers
        if (_appliedWatch is { } watch && _status.AppliedIndex >= watch.Index)
        {
            _appliedWatch = null;
            watch.Reached();
        }
        if (_node.IsRemoved && !_removedReported)
        {
            _removedReported = true;
            _onRemoved();
        }
    }

    /// <summary>
    /// During a turn, at its end and in its middle when the node applied committed entries ahead of its
    /// sync of newer ones (<see cref="ClusterNode.AppliedAheadOfSync"/>): what was applied is published first (events,
    /// status, auth state: a snapshot may have replaced the store), so that a client that got its answer sees at least
    /// that state; then the answers leave.
    /// </summary>
    private void PublishAndReply()
    {
        Feed.Publish(_node.Store);
        _status = _node.GetStatus();
        _authState = _node.Store.Auth.State;
        DeliverReplies();
    }

    private void DeliverReplies()
    {
        if (_replies.Count == 0)
        {
            return;
        }
        var replies = _replies;
        _replies = [];
        if (replies.Count == 1 && replies[0].IsSmall)
        {
            replies[0].Complete(); // a lone client's answer: no hop (see LoopReply)
            return;
        }
        ThreadPool.UnsafeQueueUserWorkItem(static replies =>
        {
            foreach (var reply in replies)
            {
                reply.Complete();
            }
        }, replies, preferLocal: false);
    }

    private void Drain()
    {
        // Bounded per turn so a flood of input cannot starve ticks and Ready handling.
        var budget = 50_000;
        var drained = 0;
        while (budget-- > 0 && _inbox.TryDequeue(out var work))
        {
            Interlocked.Decrement(ref _inboxCount);
            work(_node);
            drained++;
        }
        if (drained > 0)
        {
            _sparseTurns = drained == 1 ? _sparseTurns + 1 : 0; // a turn on a tick alone says nothing of the load
        }
    }

    /// <summary>
    /// With posters' turns off: when turns bring one input at a time (a lone client's requests and their replication),
    /// the next input usually comes within a few hundred microseconds: yield the core that long before sleeping, so that
    /// it is picked up without a wake-up through the kernel. Under load, turns bring many inputs and this is skipped
    /// (yielding followers cost busy members their CPU).
    /// </summary>
    private void SpinForInput()
    {
        var spinner = default(SpinWait);
        while (spinner.Count < LongSpinCount && Volatile.Read(ref _inboxCount) == 0 && !_stopping)
        {
            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }

    /// <summary>A turn failed (on the loop thread or a caller's): no more input is taken, the loop thread ends, the member stops.</summary>
    private void Fail(Exception exception)
    {
        LogLoopFailed(_logger, exception);
        _stopping = true;
        _wake.Set();
        _onFatal(exception);
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "node loop failed; stopping the member")]
    private static partial void LogLoopFailed(ILogger logger, Exception exception);
}
