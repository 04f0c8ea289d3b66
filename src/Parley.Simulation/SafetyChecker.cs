using Parley.Raft;

namespace Parley.Simulation;

/// <summary>
/// Raft's safety properties (Figure 3 of the paper) checked as the run goes: election safety, log matching,
/// leader completeness, state machine safety, monotonic commit, and reads that observe acknowledged writes.
/// </summary>
public sealed class SafetyChecker
{
    private readonly Dictionary<ulong, ulong> _leaderByTerm = [];
    // Index -> term of the entry any member considered committed there.
    private readonly List<ulong> _committedTerms = [0];
    // Index -> what was applied there (term and payload hash).
    private readonly List<(ulong Term, ulong Hash, EntryType Type)> _applied = [(0, 0, EntryType.Normal)];
    private readonly Dictionary<int, ulong> _ackedWriteIndexByKey = [];

    public int LeaderElections { get; private set; }

    public int ReadsChecked { get; private set; }

    public ulong MaxAckedWriteIndex { get; private set; }

    public ulong CommittedIndexMax => (ulong)_committedTerms.Count - 1;

    public void OnLeaderElected(SimNode node)
    {
        var raft = node.Raft!;
        LeaderElections++;
        if (_leaderByTerm.TryGetValue(raft.Term, out var other) && other != node.Id)
        {
            throw new SimulationViolation($"election safety: members {other} and {node.Id} both lead term {raft.Term}");
        }
        _leaderByTerm[raft.Term] = node.Id;
        // Leader completeness: every entry committed so far is in the new leader's log.
        for (var index = Math.Max(raft.Log.FirstIndex, 1); index <= CommittedIndexMax; index++)
        {
            var committedTerm = _committedTerms[(int)index];
            if (committedTerm == 0)
            {
                continue;
            }
            if (!raft.Log.TryGetTerm(index, out var term) || term != committedTerm)
            {
                throw new SimulationViolation(
                    $"leader completeness: leader {node.Id} of term {raft.Term} lacks committed entry {index}/{committedTerm} (has term {term})");
            }
        }
    }

    /// <summary>After any event on a member: its commit index only grows, and what it commits never changes.</summary>
    public void OnCommitObserved(SimNode node, ulong previousCommit, ulong commit)
    {
        if (commit < previousCommit)
        {
            throw new SimulationViolation($"commit went backwards on member {node.Id}: {previousCommit} -> {commit}");
        }
        var log = node.Raft!.Log;
        for (var index = previousCommit + 1; index <= commit; index++)
        {
            if (!log.TryGetTerm(index, out var term))
            {
                continue; // covered by a snapshot
            }
            while ((ulong)_committedTerms.Count <= index)
            {
                _committedTerms.Add(0);
            }
            var known = _committedTerms[(int)index];
            if (known == 0)
            {
                _committedTerms[(int)index] = term;
            }
            else if (known != term)
            {
                throw new SimulationViolation(
                    $"committed entry changed: index {index} was committed with term {known}, member {node.Id} commits term {term}");
            }
        }
    }

    /// <summary>
    /// Entries a member persisted at or below its durable commit index must be the committed ones. (Above it a
    /// member may briefly write entries that a newer leader is already replacing in memory.)
    /// </summary>
    public void OnPersisted(SimNode node, IReadOnlyList<Entry> entries, ulong durableCommit)
    {
        foreach (var entry in entries)
        {
            if (entry.Index <= durableCommit && entry.Index < (ulong)_committedTerms.Count)
            {
                var known = _committedTerms[(int)entry.Index];
                if (known != 0 && known != entry.Term)
                {
                    throw new SimulationViolation(
                        $"committed entry overwritten: member {node.Id} persisted {entry.Index}/{entry.Term} over committed term {known}");
                }
            }
        }
    }

    /// <summary>State machine safety: no two members apply different entries at one index.</summary>
    public void OnApplied(SimNode node, Entry entry)
    {
        var hash = Hash(entry.Data.Span);
        while ((ulong)_applied.Count <= entry.Index)
        {
            _applied.Add((0, 0, EntryType.Normal));
        }
        var known = _applied[(int)entry.Index];
        if (known.Term == 0)
        {
            _applied[(int)entry.Index] = (entry.Term, hash, entry.Type);
        }
        else if (known.Term != entry.Term || known.Hash != hash || known.Type != entry.Type)
        {
            throw new SimulationViolation(
                $"state machine safety: member {node.Id} applied {entry.Index}/{entry.Term} but another member applied {entry.Index}/{known.Term} (different entries)");
        }
    }

    public void OnWriteAcknowledged(ClientOperation write)
    {
        MaxAckedWriteIndex = Math.Max(MaxAckedWriteIndex, write.ResultIndex);
        if (!_ackedWriteIndexByKey.TryGetValue(write.Key, out var index) || index < write.ResultIndex)
        {
            _ackedWriteIndexByKey[write.Key] = write.ResultIndex;
        }
    }

    public ulong RequiredIndexForRead(int key) => _ackedWriteIndexByKey.TryGetValue(key, out var index) ? index : 0;

    /// <summary>A ReadIndex read sees every write acknowledged before it began (it is not stale).</summary>
    public void OnReadCompleted(ClientOperation read)
    {
        ReadsChecked++;
        if (read.ResultIndex < read.RequiredIndex)
        {
            throw new SimulationViolation(
                $"stale read: {read} saw the write at index {read.ResultIndex}, but the write at {read.RequiredIndex} was acknowledged before the read began");
        }
    }

    /// <summary>Log matching over what members hold durably: equal (index, term) means equal prefixes.</summary>
    public static void CheckLogMatching(IReadOnlyList<SimNode> nodes)
    {
        for (var a = 0; a < nodes.Count; a++)
        {
            for (var b = a + 1; b < nodes.Count; b++)
            {
                CheckPair(nodes[a], nodes[b]);
            }
        }
    }

    private static void CheckPair(SimNode a, SimNode b)
    {
        var left = a.Storage;
        var right = b.Storage;
        var first = Math.Max(left.FirstIndex, right.FirstIndex);
        var last = Math.Min(left.LastIndex, right.LastIndex);
        var matched = false;
        for (var index = last; index >= first && index > 0; index--)
        {
            var x = left.EntryAt(index);
            var y = right.EntryAt(index);
            if (!matched && x.Term == y.Term)
            {
                matched = true;
            }
            if (matched && (x.Term != y.Term || x.Type != y.Type || !x.Data.Span.SequenceEqual(y.Data.Span)))
            {
                throw new SimulationViolation(
                    $"log matching: members {a.Id} and {b.Id} agree at a later index but differ at {index} ({x} vs {y})");
            }
        }
    }

    private static ulong Hash(ReadOnlySpan<byte> data)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in data)
        {
            hash = (hash ^ b) * 1099511628211UL;
        }
        return hash;
    }
}
