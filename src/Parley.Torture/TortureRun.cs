using System.Globalization;
using System.Text;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Parley.Checker.Formats;
using Parley.Checker.Reporting;
using Parley.Checker.Search;

namespace Parley.Torture;

/// <summary>
/// One run of the register workload: start a cluster, run clients, watchers, lock users and the nemesis for a bounded
/// time and count, heal, finish any membership change, then check (the membership is the one the nemesis made,
/// members converged with equal HashKV, no acknowledged write lost, nothing phantom, watchers complete, lock holders'
/// writes fenced, the history linearizable under the etcd model). The run folder keeps the history, the schedule,
/// member logs and the checker's explanation.
/// </summary>
internal sealed class TortureRun
{
    private readonly TortureOptions _options;
    private readonly int _number;
    private readonly int _size;
    private readonly int _seed;
    private readonly string _folder;
    private readonly List<string> _anomalies = [];

    public TortureRun(TortureOptions options, int number, int size, int seed)
    {
        _options = options;
        _number = number;
        _size = size;
        _seed = seed;
        _folder = Path.Combine(options.OutputDirectory, string.Create(CultureInfo.InvariantCulture, $"run-{number:D3}-{size}m-seed{seed}"));
    }

    public async Task<RunResult> RunAsync(CancellationToken cancellation)
    {
        Directory.CreateDirectory(_folder);
        var clock = new RunClock();
        var history = new List<HistoryOperation>();
        var historyGate = new Lock();
        var faults = new Dictionary<FaultKind, int>();
        Verdict? verdict = null;
        var resolvedCount = 0;
        var watchers = new List<Watcher>();
        var lockUsers = new List<LockUser>();
        IReadOnlyList<string> finalMembers = [];
        var membership = MembershipSummary.None;
        await using (var schedule = new StreamWriter(Path.Combine(_folder, "nemesis.log")))
        {
            await schedule.WriteLineAsync($"run {_number}: {_size} members, seed {_seed}, faults {string.Join(",", _options.Faults.Select(FaultKinds.Name))}, bug {_options.InjectBug ?? "none"}").ConfigureAwait(false);
            var cluster = new TortureCluster(new TortureClusterOptions
            {
                Size = _size, Folder = _folder, ParleyPath = _options.ParleyPath, Seed = _seed, InjectBug = _options.ServerBug,
                HeartbeatIntervalMs = _options.HeartbeatIntervalMs, ElectionTimeoutMs = _options.ElectionTimeoutMs,
                Network = _options.Network, UseNetem = _options.Network == NetworkMode.Netns && NetnsSupport.Probe.HasNetem,
            });
            await using (cluster.ConfigureAwait(false))
            {
                try
                {
                    await schedule.WriteLineAsync("network: " + cluster.NetworkDescription).ConfigureAwait(false);
                    await cluster.StartAsync(cancellation).ConfigureAwait(false);
                    using var stopWatching = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
                    watchers.AddRange(Enumerable.Range(1, _options.Watchers).Select(id => new Watcher(id, cluster.Endpoints, _seed * 1000 + 500 + id)));
                    var watchTasks = watchers.Select(watcher => watcher.RunAsync(stopWatching.Token)).ToList();
                    // Lock users alternate between the server-side Lock service and the client recipe, contending for one lock.
                    lockUsers.AddRange(Enumerable.Range(1, _options.LockUsers).Select(id => new LockUser(id, id % 2 == 1 ? LockFlavour.Server : LockFlavour.Recipe,
                        fenced: _options.InjectBug != TortureOptions.UnfencedLockBug, cluster.Endpoints, _seed * 1000 + 700 + id, clock)));
                    var nemesis = new Nemesis(cluster, _options.Faults, _seed, clock, schedule, _options.ElectionTimeoutMs, cancellation);
                    var duration = clock.Elapsed + TimeSpan.FromSeconds(_options.RunSeconds);
                    try
                    {
                        await RunLoadAsync(cluster, nemesis, lockUsers, clock, duration, history, historyGate, cancellation).ConfigureAwait(false);
                    }
                    finally
                    {
                        foreach (var (kind, count) in nemesis.Counts)
                        {
                            faults[kind] = count;
                        }
                        membership = nemesis.Membership.Summary;
                    }
                    try
                    {
                        (verdict, resolvedCount) = await CheckAsync(cluster, nemesis.Membership, clock, history, watchers, lockUsers, cancellation).ConfigureAwait(false);
                    }
                    finally
                    {
                        membership = nemesis.Membership.Summary; // promotions finished after healing included
                        await stopWatching.CancelAsync().ConfigureAwait(false);
                        await Task.WhenAll(watchTasks).ConfigureAwait(false);
                    }
                }
                catch (TimeoutException exception)
                {
                    _anomalies.Add("liveness: " + exception.Message);
                    HistoryWriter.Write(Path.Combine(_folder, "history.raw.jsonl"), history);
                }
                finally
                {
                    _anomalies.AddRange(cluster.FindUnexpectedExits().Select(line => "crash: " + line));
                    finalMembers = [.. cluster.Members.Select(member => cluster.Names[member])];
                }
            }
        }
        var kept = _anomalies.Count > 0 || _options.Keep || verdict == Verdict.Unknown;
        if (_anomalies.Count > 0)
        {
            await File.WriteAllLinesAsync(Path.Combine(_folder, "anomalies.txt"), _anomalies, CancellationToken.None).ConfigureAwait(false);
        }
        if (!kept)
        {
            TryDelete(_folder);
        }
        return new RunResult
        {
            Number = _number, Network = _options.Network, Members = _size, Folder = _folder, Elapsed = clock.Elapsed, Operations = history.Count,
            Acknowledged = history.Count(operation => operation.Outcome == HistoryOutcome.Ok),
            Unknown = history.Count(operation => operation.Outcome == HistoryOutcome.Unknown),
            Resolved = resolvedCount, WatchedEvents = watchers.Sum(watcher => watcher.Events.Count), Faults = faults, Linearizability = verdict, Anomalies = _anomalies, Kept = kept,
            Locks = LockSummary.Of(lockUsers), FinalMembers = finalMembers, Membership = membership,
        };
    }

    private async Task RunLoadAsync(TortureCluster cluster, Nemesis nemesis, List<LockUser> lockUsers, RunClock clock, TimeSpan duration,
        List<HistoryOperation> history, Lock historyGate, CancellationToken cancellation)
    {
        var keys = Enumerable.Range(0, _options.KeyCount).Select(i => "k" + i.ToString(CultureInfo.InvariantCulture)).ToArray();
        var clientCount = _options.Clients > 0 ? _options.Clients : _size + 1;
        var budget = new OperationBudget(_options.OperationsMaxPerRun);
        var clients = Enumerable.Range(1, clientCount)
            .Select(id => new WorkloadClient(id, cluster.Endpoints, keys, _seed * 1000 + id, clock, _options.RequestTimeout)).ToList();
        try
        {
            var load = clients.Select(client => client.RunAsync(history, historyGate, budget, duration, cancellation))
                .Concat(lockUsers.Select(user => user.RunAsync(duration, cancellation))).ToList();
            var faulting = nemesis.RunAsync(duration, cancellation);
            await Task.WhenAll(load).ConfigureAwait(false);
            await faulting.ConfigureAwait(false);
        }
        finally
        {
            clients.ForEach(client => client.Dispose());
        }
    }

    private async Task<(Verdict? Verdict, int Resolved)> CheckAsync(TortureCluster cluster, MembershipChanger membership, RunClock clock, List<HistoryOperation> history,
        List<Watcher> watchers, List<LockUser> lockUsers, CancellationToken cancellation)
    {
        await membership.SettleUncertainRemovalsAsync().ConfigureAwait(false);
        membership.RestartRefusedJoin();
        cluster.HealAll();
        if (!await membership.CompleteJoinAsync(TimeSpan.FromSeconds(60), cancellation).ConfigureAwait(false))
        {
            _anomalies.Add("membership: a member being added was not promoted within 60 s after healing (see nemesis.log)");
        }
        // A removal asked for without an answer may still land after the heal (proposed, not yet committed, when the
        // partition began): each wait settles such removals first, so the removed member is not waited for.
        await TortureCluster.WaitUntilAsync(async () =>
        {
            await membership.SettleUncertainRemovalsAsync().ConfigureAwait(false);
            return (await Task.WhenAll(cluster.Members.Select(cluster.IsReadyAsync)).ConfigureAwait(false)).All(ready => ready);
        }, TimeSpan.FromSeconds(60), "every member ready after healing", cancellation).ConfigureAwait(false);
        await FinalReadsAsync(cluster, clock, history, cancellation).ConfigureAwait(false);
        await WaitForLockAreaAsync(cluster, cancellation).ConfigureAwait(false);
        var revision = await ConvergedRevisionAsync(cluster, membership, cancellation).ConfigureAwait(false);
        _anomalies.AddRange((await membership.CheckMembershipAsync().ConfigureAwait(false)).Concat(membership.Findings).Select(line => "membership: " + line));
        await CompareHashesAsync(cluster, revision).ConfigureAwait(false);
        var store = await StoreHistory.ReadAsync(cluster, cluster.Members[0], revision, key => !LockUser.InLockArea(key), cancellation).ConfigureAwait(false);
        HistoryWriter.Write(Path.Combine(_folder, "history.raw.jsonl"), history);
        _anomalies.AddRange(HistoryChecks.FindLostWrites(history, store).Select(line => "lost write: " + line));
        _anomalies.AddRange(HistoryChecks.FindPhantomWrites(history, store).Select(line => "phantom write: " + line));
        await CheckWatchersAsync(watchers, store, revision, cancellation).ConfigureAwait(false);
        await CheckLocksAsync(lockUsers, store).ConfigureAwait(false);
        var partial = new List<string>();
        var endNs = clock.NowNs;
        var resolved = HistoryChecks.ResolveUnknowns(history, store, endNs, partial);
        var resolvedCount = resolved.Count(operation => operation.Resolution is not null);
        _anomalies.AddRange(partial.Select(line => "atomicity: " + line));
        var outside = new List<string>();
        var lockArea = HistoryChecks.OutsideRevisions(store, LockUser.InLockArea, endNs, outside);
        resolved.AddRange(lockArea);
        _anomalies.AddRange(outside.Select(line => "lock: " + line));
        var historyPath = Path.Combine(_folder, "history.jsonl");
        HistoryWriter.Write(historyPath, resolved);
        var result = HistoryFileChecker.Check(historyPath, HistoryFormat.Parley, new CheckOptions { Timeout = _options.CheckTimeout, CancellationToken = cancellation });
        var explanation = new StringBuilder();
        explanation.AppendLine(CultureInfo.InvariantCulture,
            $"{historyPath}: {LinearizabilityCommand.Describe(result.Verdict)} ({resolved.Count(operation => operation.Outcome != HistoryOutcome.Fail)} operations, {lockArea.Count} of them the lock area's revisions; {result.Elapsed.TotalSeconds:F1} s)");
        if (result.SmallestViolation is { } violation)
        {
            _anomalies.Add("not linearizable (checker explanation in checker.txt)");
            explanation.Append(ViolationExplainer.Explain(violation));
            await File.WriteAllTextAsync(Path.Combine(_folder, "timeline.html"), TimelineRenderer.RenderHtml(historyPath, violation), CancellationToken.None).ConfigureAwait(false);
        }
        else if (result.Verdict == Verdict.Unknown)
        {
            explanation.AppendLine("no violation found within the checker's budget; this is not a pass");
        }
        await File.WriteAllTextAsync(Path.Combine(_folder, "checker.txt"), explanation.ToString(), CancellationToken.None).ConfigureAwait(false);
        return (result.Verdict, resolvedCount);
    }

    /// <summary>Waits until every watcher has seen the converged revision, then checks what each received.</summary>
    private async Task CheckWatchersAsync(List<Watcher> watchers, StoreHistory store, long revision, CancellationToken cancellation)
    {
        try
        {
            await TortureCluster.WaitUntilAsync(() => Task.FromResult(watchers.All(watcher => watcher.NextRevision > revision)),
                TimeSpan.FromSeconds(30), $"every watcher delivered revision {revision}", cancellation).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _anomalies.AddRange(watchers.Where(watcher => watcher.NextRevision <= revision)
                .Select(watcher => $"watch: watcher {watcher.Id} stuck before revision {watcher.NextRevision} of {revision} 30 s after healing"));
        }
        await using (var file = new StreamWriter(Path.Combine(_folder, "watch.log")))
        {
            foreach (var watcher in watchers)
            {
                await file.WriteLineAsync($"watcher {watcher.Id}: {watcher.Events.Count} events, {watcher.Reconnects} reconnects, next revision {watcher.NextRevision}").ConfigureAwait(false);
                foreach (var watched in watcher.Events)
                {
                    await file.WriteLineAsync($"  rev {watched.Revision} {(watched.Value is null ? "delete " + watched.Key : watched.Key + "=" + watched.Value)} (response {watched.Response}, member {watched.Member})").ConfigureAwait(false);
                }
            }
        }
        foreach (var watcher in watchers)
        {
            _anomalies.AddRange(watcher.Notes.Select(note => "watch: " + note));
            _anomalies.AddRange(WatchChecks.Check(watcher.Id, watcher.Events, store, revision).Take(20).Select(finding => "watch: " + finding));
        }
    }

    /// <summary>
    /// The lock users are done, but a lease one of them could not revoke expires by itself (after its TTL; later
    /// across a leader change), and its key's deletion is a new revision. Waits until no lock key is left, so that the
    /// revision the members converge on is the last one.
    /// </summary>
    private async Task WaitForLockAreaAsync(TortureCluster cluster, CancellationToken cancellation)
    {
        var keys = new RangeRequest
        {
            Key = ByteString.CopyFromUtf8(LockUser.LockName + "/"), RangeEnd = ByteString.CopyFromUtf8(LockUser.LockName + "0"), CountOnly = true,
        };
        try
        {
            await TortureCluster.WaitUntilAsync(async () =>
            {
                try
                {
                    var response = await new KV.KVClient(cluster.Channel(cluster.Members[0])).RangeAsync(keys, deadline: DateTime.UtcNow.AddSeconds(5), cancellationToken: cancellation).ConfigureAwait(false);
                    return response.Count == 0;
                }
                catch (RpcException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(30), "no lock key left (every lock user's lease revoked or expired)", cancellation).ConfigureAwait(false);
        }
        catch (TimeoutException exception)
        {
            _anomalies.Add("liveness: " + exception.Message);
        }
    }

    /// <summary>Writes every acquisition and resource write to locks.log, then checks them against the store's history.</summary>
    private async Task CheckLocksAsync(List<LockUser> lockUsers, StoreHistory store)
    {
        var holds = lockUsers.SelectMany(user => user.Holds).ToList();
        var writes = lockUsers.SelectMany(user => user.Writes).ToList();
        await using (var file = new StreamWriter(Path.Combine(_folder, "locks.log")))
        {
            foreach (var user in lockUsers)
            {
                await file.WriteLineAsync($"lock user {user.Id} ({user.Flavour}): {user.Holds.Count} holds, {user.Writes.Count} writes, {user.FailedAttempts} failed attempts").ConfigureAwait(false);
                foreach (var failure in user.Failures)
                {
                    await file.WriteLineAsync("  failed: " + failure).ConfigureAwait(false);
                }
            }
            foreach (var (at, line) in holds.Select(hold => (hold.ReturnNs, $"hold  user {hold.User} ({hold.Flavour}) {hold.LockKey} token {hold.Token} granted at rev {hold.GrantedAtRevision}{(hold.Paused ? ", then paused past the lease TTL" : "")}"))
                .Concat(writes.Select(write => (write.CallNs, $"write user {write.User} {write.Value}{(write.Fenced ? "" : " (unfenced)")}: {(write.Acknowledged ? write.Succeeded == true ? $"applied at rev {write.Revision}" : $"refused by the fence at rev {write.Revision}" : "unknown")}")))
                .OrderBy(entry => entry.Item1))
            {
                await file.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{at,15} ns  {line}")).ConfigureAwait(false);
            }
        }
        _anomalies.AddRange(LockChecks.Check(store, holds, writes, LockUser.LockName + "/", LockUser.ResourceKey).Take(20).Select(finding => "lock: " + finding));
    }

    /// <summary>Reads every key through every member (linearizable): the last word of the history.</summary>
    private async Task FinalReadsAsync(TortureCluster cluster, RunClock clock, List<HistoryOperation> history, CancellationToken cancellation)
    {
        foreach (var member in cluster.Members)
        {
            using var channel = GrpcChannel.ForAddress(cluster.ClientUrls[member]);
            var client = new KV.KVClient(channel);
            for (var k = 0; k < _options.KeyCount; k++)
            {
                var key = "k" + k.ToString(CultureInfo.InvariantCulture);
                for (var attempt = 0; ; attempt++)
                {
                    var call = clock.NowNs;
                    try
                    {
                        var response = await client.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(key) }, deadline: DateTime.UtcNow.AddSeconds(5), cancellationToken: cancellation).ConfigureAwait(false);
                        history.Add(new HistoryOperation
                        {
                            Client = 10_000 + member, Op = HistoryOpKind.Get, Key = key, CallNs = call, ReturnNs = clock.NowNs,
                            Value = response.Kvs.Count == 0 ? null : response.Kvs[0].Value.ToStringUtf8(),
                            ModRevision = response.Kvs.Count == 0 ? 0 : response.Kvs[0].ModRevision, Revision = response.Header.Revision, Member = member,
                        });
                        break;
                    }
                    catch (RpcException) when (attempt < 20)
                    {
                        await Task.Delay(500, cancellation).ConfigureAwait(false);
                    }
                    catch (RpcException exception)
                    {
                        throw new TimeoutException($"{cluster.Names[member]} cannot serve a linearizable read after healing: {exception.Status.Detail}");
                    }
                }
            }
        }
    }

    /// <summary>Waits until every member reports the same revision and applied index twice in a row.</summary>
    private static async Task<long> ConvergedRevisionAsync(TortureCluster cluster, MembershipChanger membership, CancellationToken cancellation)
    {
        (long Revision, ulong Applied)? previous = null;
        long revision = 0;
        await TortureCluster.WaitUntilAsync(async () =>
        {
            await membership.SettleUncertainRemovalsAsync().ConfigureAwait(false);
            var statuses = await Task.WhenAll(cluster.Members.Select(cluster.StatusAsync)).ConfigureAwait(false);
            if (statuses.Any(status => status is null))
            {
                return false;
            }
            var points = statuses.Select(status => (status!.Header.Revision, status.RaftAppliedIndex)).Distinct().ToList();
            var converged = points.Count == 1 && previous == points[0];
            previous = points.Count == 1 ? points[0] : null;
            revision = points[0].Revision;
            return converged;
        }, TimeSpan.FromSeconds(60), "every member at the same revision and applied index", cancellation).ConfigureAwait(false);
        return revision;
    }

    private async Task CompareHashesAsync(TortureCluster cluster, long revision)
    {
        var hashes = new List<(string Name, uint Hash, long CompactRevision)>();
        foreach (var member in cluster.Members)
        {
            var response = await cluster.HashKVAsync(member, revision).ConfigureAwait(false);
            hashes.Add((cluster.Names[member], response.Hash, response.CompactRevision));
        }
        if (hashes.Select(hash => (hash.Hash, hash.CompactRevision)).Distinct().Count() > 1)
        {
            _anomalies.Add($"hash mismatch at revision {revision}: " + string.Join(", ", hashes.Select(hash => $"{hash.Name}={hash.Hash:x8} (compacted at {hash.CompactRevision})")));
        }
    }

    internal static void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // leave it for the OS temp cleaner
        }
        catch (UnauthorizedAccessException)
        {
            // same
        }
    }
}
