using System.Buffers.Binary;
using System.Diagnostics;
using Etcdserverpb;
using Grpc.Core;

namespace Parley.Bench;

/// <summary>
/// The watchers of a watch run: each opens its own Watch stream over the whole key space and waits for
/// "created" before the writers start; each event's delay is its receipt time minus the send timestamp the
/// writer put in the value (same process, same monotonic clock).
/// </summary>
internal sealed class WatchFanOut : IAsyncDisposable
{
    private static readonly TimeSpan CreateTimeout = TimeSpan.FromSeconds(60);

    private readonly BenchConnections _connections;
    private readonly KeySpace _keys;
    private readonly int _watchers;
    private readonly CancellationTokenSource _stop = new();
    private readonly LatencyHistogram[] _latencies;
    private readonly Task[] _tasks;
    private readonly TaskCompletionSource[] _created;
    private long _received;
    private long _errors;
    private long _lastReceiptTimestamp;

    public WatchFanOut(BenchConnections connections, KeySpace keys, int watchers)
    {
        _connections = connections;
        _keys = keys;
        _watchers = watchers;
        _latencies = Enumerable.Range(0, watchers).Select(_ => new LatencyHistogram()).ToArray();
        _created = Enumerable.Range(0, watchers).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        _tasks = new Task[watchers];
    }

    public long Received => Interlocked.Read(ref _received);

    /// <summary>Opens every watch and returns once all are created (or throws if one fails or takes too long).</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        for (var i = 0; i < _watchers; i++)
        {
            var index = i;
            _tasks[i] = Task.Run(() => WatchAsync(index), CancellationToken.None);
        }
        var all = Task.WhenAll(_created.Select(created => created.Task));
        await all.WaitAsync(CreateTimeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits until <paramref name="expected"/> events arrived or nothing new came for <paramref name="quiet"/>.</summary>
    public async Task DrainAsync(long expected, TimeSpan quiet, CancellationToken cancellationToken)
    {
        var lastCount = -1L;
        var lastChange = Stopwatch.GetTimestamp();
        while (Received < expected && !cancellationToken.IsCancellationRequested)
        {
            var count = Received;
            if (count != lastCount)
            {
                lastCount = count;
                lastChange = Stopwatch.GetTimestamp();
            }
            else if (Stopwatch.GetElapsedTime(lastChange) > quiet)
            {
                return;
            }
            await Task.Delay(20, CancellationToken.None).ConfigureAwait(false);
        }
    }

    public WatchSummary Summarize(long expected, long writersStartTimestamp)
    {
        var latency = new LatencyHistogram();
        foreach (var histogram in _latencies)
        {
            latency.Add(histogram);
        }
        var last = Interlocked.Read(ref _lastReceiptTimestamp);
        var seconds = last > writersStartTimestamp ? (double)(last - writersStartTimestamp) / Stopwatch.Frequency : 0;
        return new WatchSummary(_watchers, expected, Received, seconds > 0 ? Math.Round(Received / seconds, 1) : 0, latency.Summarize(), Interlocked.Read(ref _errors));
    }

    private async Task WatchAsync(int index)
    {
        var (key, rangeEnd) = _keys.WholeRange();
        var histogram = _latencies[index];
        try
        {
            using var call = _connections.WatchFor(index).Watch(cancellationToken: _stop.Token);
            await call.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = key, RangeEnd = rangeEnd } }).ConfigureAwait(false);
            while (await call.ResponseStream.MoveNext(_stop.Token).ConfigureAwait(false))
            {
                var response = call.ResponseStream.Current;
                if (response.Created)
                {
                    _created[index].TrySetResult();
                }
                if (response.Canceled)
                {
                    throw new BenchCheckException($"watch {response.WatchId} canceled by the server: {response.CancelReason}");
                }
                if (response.Events.Count == 0)
                {
                    continue;
                }
                var now = Stopwatch.GetTimestamp();
                foreach (var watchEvent in response.Events)
                {
                    var value = watchEvent.Kv.Value.Span;
                    if (value.Length >= sizeof(long))
                    {
                        histogram.RecordTicks(now - BinaryPrimitives.ReadInt64LittleEndian(value), Stopwatch.Frequency);
                    }
                }
                Interlocked.Add(ref _received, response.Events.Count);
                Interlocked.Exchange(ref _lastReceiptTimestamp, now);
            }
        }
        catch (RpcException exception) when (exception.StatusCode == StatusCode.Cancelled && _stop.IsCancellationRequested)
        {
            // stopped at the end of the run
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // stopped at the end of the run
        }
        catch (Exception exception) when (exception is RpcException or BenchCheckException or IOException)
        {
            Interlocked.Increment(ref _errors);
            _created[index].TrySetException(exception);
        }
        finally
        {
            _created[index].TrySetException(new BenchCheckException($"watch stream {index} ended before the server confirmed its creation"));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_tasks.Where(task => task is not null)).ConfigureAwait(false);
        _stop.Dispose();
    }
}
