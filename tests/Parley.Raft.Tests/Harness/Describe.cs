using System.Text;
using Parley.Raft;

namespace Parley.Raft.Tests.Harness;

/// <summary>Stable text for golden files: our own formatting, so that a changed ToString in the core does not
/// rewrite every expectation.</summary>
internal static class Describe
{
    public static string Entry(Entry entry)
    {
        var text = $"{entry.Index}/{entry.Term}";
        if (entry.Type == EntryType.ConfigChange)
        {
            var change = ConfigChange.Decode(entry.Data.Span);
            return $"{text} {change.Type}({change.NodeId})";
        }
        return entry.Data.IsEmpty ? $"{text} noop" : $"{text} \"{Encoding.UTF8.GetString(entry.Data.Span)}\"";
    }

    public static string Entries(IEnumerable<Entry> entries) => string.Join(", ", entries.Select(Entry));

    public static string Message(Message message)
    {
        var text = new StringBuilder();
        text.Append($"{message.From}->{message.To} {message.Type} term={message.Term}");
        switch (message.Type)
        {
            case MessageType.PreVote:
            case MessageType.Vote:
                text.Append($" last={message.Index}/{message.LogTerm}");
                break;
            case MessageType.Append:
                text.Append($" prev={message.Index}/{message.LogTerm} commit={message.Commit}");
                if (message.Entries.Length > 0)
                {
                    text.Append($" entries=[{Entries(message.Entries)}]");
                }
                if (message.CommitOnly)
                {
                    text.Append(" commit-only");
                }
                break;
            case MessageType.AppendResponse:
                text.Append($" index={message.Index}");
                if (message.Reject)
                {
                    text.Append($" hint={message.RejectHint}/{message.LogTerm}");
                }
                break;
            case MessageType.Heartbeat:
                text.Append($" commit={message.Commit}");
                break;
            case MessageType.InstallSnapshot:
                text.Append($" snapshot={message.Snapshot!.Metadata.Index}/{message.Snapshot.Metadata.Term}");
                break;
            case MessageType.ReadIndexResponse:
            case MessageType.TransferLeadership:
                text.Append($" index={message.Index}");
                break;
        }
        if (message.Reject)
        {
            text.Append(" REJECT");
        }
        if (message.Context != 0)
        {
            text.Append(message.Context == RaftNode.TransferCampaignContext ? " ctx=transfer" : $" ctx={message.Context}");
        }
        return text.ToString();
    }

    /// <summary>Every part of a Ready, one line each, indented under a header naming the member.</summary>
    public static IEnumerable<string> Ready(ulong id, Ready ready)
    {
        yield return $"> {id} handling Ready";
        if (ready.SoftState is { } soft)
        {
            yield return $"  soft: role={soft.Role} leader={soft.Leader}";
        }
        if (ready.HardState is { } hard)
        {
            yield return $"  hard: term={hard.Term} vote={hard.Vote} commit={hard.Commit}";
        }
        if (ready.Snapshot is { } snapshot)
        {
            yield return $"  snapshot: {snapshot.Metadata.Index}/{snapshot.Metadata.Term} {snapshot.Metadata.Config}";
        }
        if (ready.Entries.Count > 0)
        {
            yield return $"  entries: {Entries(ready.Entries)}";
        }
        if (ready.CommittedEntries.Count > 0)
        {
            yield return $"  committed: {Entries(ready.CommittedEntries)}";
        }
        foreach (var message in ready.Messages)
        {
            yield return $"  send: {Message(message)}";
        }
        foreach (var message in ready.MessagesAfterPersist)
        {
            yield return $"  send after persist: {Message(message)}";
        }
        foreach (var read in ready.ReadStates)
        {
            yield return $"  read state: request={read.RequestId} index={read.Index}";
        }
    }

    public static string Status(RaftNode raft) =>
        $"{raft.Id}: {raft.Role} term={raft.Term} vote={raft.Vote} leader={raft.Leader} " +
        $"commit={raft.Log.Committed} applied={raft.Log.Applied} last={raft.Log.LastIndex}";
}
