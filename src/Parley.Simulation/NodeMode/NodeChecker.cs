using System.Text;
using Parley.Mvcc;
using Parley.Raft;
using Parley.Storage;

namespace Parley.Simulation.NodeMode;

/// <summary>
/// The node-level invariants, checked as the run goes:
/// election safety (one leader per term, from each member's status after its turns);
/// durability of promises (every vote and acknowledgement a member sent left only after its state was synced, so the
/// state it recovers after a crash holds that term, that vote and the acknowledged log prefix);
/// no acknowledged write is lost (a linearizable read sees, per key, at least the highest revision acknowledged before
/// it began, and its header at least the highest revision acknowledged anywhere);
/// no corrupt data is served (every value read was written to that key, and a revision always names the same write).
/// </summary>
public sealed class NodeChecker
{
    private readonly Dictionary<ulong, ulong> _leaderByTerm = [];
    private readonly Dictionary<ulong, Promise> _promises = [];
    private readonly Dictionary<string, long> _ackedRevisionByKey = new(StringComparer.Ordinal);
    private readonly Dictionary<long, (string Key, string Value)> _writeByRevision = [];
    private readonly Dictionary<string, HashSet<string>> _submittedValues = new(StringComparer.Ordinal);

    public int LeaderElections { get; private set; }

    public int ReadsChecked { get; private set; }

    public int WritesAcknowledged { get; private set; }

    public long AckedRevisionMax { get; private set; }

    public IReadOnlyDictionary<string, long> AckedRevisionByKey => _ackedRevisionByKey;

    public long AckedRevision(string key) => _ackedRevisionByKey.GetValueOrDefault(key);

    public void OnLeaderObserved(ulong member, ulong term)
    {
        if (_leaderByTerm.TryGetValue(term, out var other))
        {
            if (other != member)
            {
                throw new SimulationViolation($"election safety: members {other} and {member} both lead term {term}");
            }
            return;
        }
        _leaderByTerm[term] = member;
        LeaderElections++;
    }

    /// <summary>A member sent a message. Those Raft sends only after persisting promise durable state.</summary>
    public void OnSend(Message message)
    {
        switch (message.Type)
        {
            case MessageType.Vote:
            case MessageType.VoteResponse:
            case MessageType.AppendResponse:
            case MessageType.HeartbeatResponse:
            case MessageType.ReadIndex:
            case MessageType.TransferLeadership:
                break;
            default:
                return;
        }
        if (!_promises.TryGetValue(message.From, out var promise))
        {
            promise = new Promise();
            _promises[message.From] = promise;
        }
        promise.Term = Math.Max(promise.Term, message.Term);
        if (message.Type == MessageType.Vote)
        {
            promise.VoteTerm = message.Term;
            promise.Vote = message.From;
        }
        else if (message.Type == MessageType.VoteResponse && !message.Reject)
        {
            promise.VoteTerm = message.Term;
            promise.Vote = message.To;
        }
        else if (message.Type == MessageType.AppendResponse && !message.Reject)
        {
            if (message.Term > promise.AckTerm)
            {
                promise.AckTerm = message.Term;
                promise.AckIndex = message.Index;
            }
            else if (message.Term == promise.AckTerm)
            {
                promise.AckIndex = Math.Max(promise.AckIndex, message.Index);
            }
        }
    }

    /// <summary>After a crash, what the member recovered must hold everything it promised before the crash.</summary>
    public void OnRecovered(ulong member, RecoveredState recovered)
    {
        if (!_promises.TryGetValue(member, out var promise))
        {
            return;
        }
        var hardState = recovered.HardState;
        if (hardState.Term < promise.Term)
        {
            throw new SimulationViolation(
                $"durability: member {member} recovered term {hardState.Term}, but before the crash it had sent votes or acknowledgements in term {promise.Term}");
        }
        if (promise.VoteTerm == hardState.Term && promise.VoteTerm != 0 && hardState.Vote != promise.Vote)
        {
            throw new SimulationViolation(
                $"durability: member {member} recovered vote {hardState.Vote} in term {hardState.Term}, but had voted for {promise.Vote}");
        }
        if (promise.AckTerm == hardState.Term && promise.AckTerm != 0 && recovered.LastIndex < promise.AckIndex)
        {
            throw new SimulationViolation(
                $"durability: member {member} recovered its log up to {recovered.LastIndex}, but had acknowledged up to {promise.AckIndex} in term {promise.AckTerm}");
        }
    }

    public void OnWriteSubmitted(string key, string value)
    {
        if (!_submittedValues.TryGetValue(key, out var values))
        {
            values = new HashSet<string>(StringComparer.Ordinal);
            _submittedValues[key] = values;
        }
        values.Add(value);
    }

    public void OnWriteAcknowledged(string key, string value, long revision, ulong member)
    {
        WritesAcknowledged++;
        CheckRevision(revision, key, value, $"write acknowledged by member {member}");
        _ackedRevisionByKey[key] = Math.Max(_ackedRevisionByKey.GetValueOrDefault(key), revision);
        AckedRevisionMax = Math.Max(AckedRevisionMax, revision);
    }

    /// <summary>A linearizable read of one key that began when <paramref name="keyRevisionMin"/> and
    /// <paramref name="revisionMin"/> were the highest acknowledged revisions (of the key, of anything).</summary>
    public void OnRead(string key, long keyRevisionMin, long revisionMin, RangeResponse response, ulong member)
    {
        ReadsChecked++;
        if (response.Header.Revision < revisionMin)
        {
            throw new SimulationViolation(
                $"lost or stale write: member {member} served a read of {key} at revision {response.Header.Revision}, " +
                $"but revision {revisionMin} was acknowledged before the read began");
        }
        if (response.Kvs.Count == 0)
        {
            if (keyRevisionMin > 0)
            {
                throw new SimulationViolation(
                    $"lost write: member {member} served {key} as absent, but a write of it at revision {keyRevisionMin} was acknowledged before the read began");
            }
            return;
        }
        if (response.Kvs.Count > 1)
        {
            throw new SimulationViolation($"corrupt read: member {member} served {response.Kvs.Count} keys for a single-key range of {key}");
        }
        var kv = response.Kvs[0];
        var readKey = Encoding.UTF8.GetString(kv.Key);
        var value = Encoding.UTF8.GetString(kv.Value);
        if (readKey != key)
        {
            throw new SimulationViolation($"corrupt read: member {member} served key {Printable(readKey)} for a range of {key}");
        }
        if (!_submittedValues.TryGetValue(key, out var values) || !values.Contains(value))
        {
            throw new SimulationViolation(
                $"corrupt read: member {member} served {key}={Printable(value)} at revision {kv.ModRevision}, a value no client ever wrote to it");
        }
        if (kv.ModRevision < keyRevisionMin)
        {
            throw new SimulationViolation(
                $"lost write: member {member} served {key} at mod revision {kv.ModRevision}, but revision {keyRevisionMin} of it was acknowledged before the read began");
        }
        if (kv.ModRevision > response.Header.Revision)
        {
            throw new SimulationViolation(
                $"corrupt read: member {member} served {key} with mod revision {kv.ModRevision} above the header revision {response.Header.Revision}");
        }
        CheckRevision(kv.ModRevision, key, value, $"read served by member {member}");
    }

    /// <summary>A revision names one write everywhere: two different writes at one revision mean diverged or corrupt state.</summary>
    private void CheckRevision(long revision, string key, string value, string source)
    {
        if (_writeByRevision.TryGetValue(revision, out var known))
        {
            if (known.Key != key || known.Value != value)
            {
                throw new SimulationViolation(
                    $"state divergence: revision {revision} is {known.Key}={Printable(known.Value)} elsewhere, but {key}={Printable(value)} in a {source}");
            }
            return;
        }
        _writeByRevision[revision] = (key, value);
    }

    internal static string Printable(string text) => text.Length <= 40 ? text : text[..40] + $"...({text.Length} chars)";

    private sealed class Promise
    {
        public ulong Term;
        public ulong VoteTerm;
        public ulong Vote;
        public ulong AckTerm;
        public ulong AckIndex;
    }
}
