namespace Parley.Server;

/// <summary>
/// The answer to a request that the node loop works on (a write, a read, a query). The loop thread only records the
/// answer (<see cref="Post"/>); at the end of its turn <see cref="NodeLoop"/> hands every answer recorded in that turn to
/// the thread pool as one work item, which completes each task in turn, and each waiting handler continues inline
/// there (its response is written on that thread). So a turn that answers many requests costs one thread-pool hop,
/// not one per request. A turn's only answer, when it is small (a put's, see the constructor), is completed by the thread
/// that ran the turn: a lone client's handler writes its answer without waiting for a pool thread, at the cost of a few
/// microseconds of the turn.
/// </summary>
internal sealed class LoopReply<T> : TaskCompletionSource<T>, ILoopReply
{
    private readonly NodeLoop _loop;
    private readonly Func<T, bool>? _isSmall;
    private T? _result;
    private Exception? _exception;
    private bool _posted;

    public LoopReply(NodeLoop loop, Func<T, bool>? isSmall = null)
        : base(TaskCreationOptions.None) // continuations run inline, on the thread that completes the turn's answers
    {
        _loop = loop;
        _isSmall = isSmall;
    }

    /// <summary>A failure's answer is small; a result's is if the predicate given at construction says so.</summary>
    public bool IsSmall => _exception is not null || (_isSmall is not null && _isSmall(_result!));

    /// <summary>Loop thread: the request's result (the first answer posted wins, as with TrySetResult).</summary>
    public void Post(T result)
    {
        if (_posted)
        {
            return;
        }
        _posted = true;
        _result = result;
        _loop.ReplyAfterTurn(this);
    }

    /// <summary>Loop thread: the request failed with <paramref name="exception"/>.</summary>
    public void PostException(Exception exception)
    {
        if (_posted)
        {
            return;
        }
        _posted = true;
        _exception = exception;
        _loop.ReplyAfterTurn(this);
    }

    void ILoopReply.Complete()
    {
        if (_exception is null)
        {
            TrySetResult(_result!);
        }
        else
        {
            TrySetException(_exception);
        }
    }
}
