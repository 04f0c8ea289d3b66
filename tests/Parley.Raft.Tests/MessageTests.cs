namespace Parley.Raft.Tests;

/// <summary><see cref="Message.WithSnapshot"/>: the copy differs from the original in its snapshot only.</summary>
public class MessageTests
{
    [Fact]
    public void WithSnapshot_KeepsEveryOtherField_AndLeavesTheOriginalAlone()
    {
        var old = new Snapshot(new SnapshotMetadata(7, 2, new ConfigState([1, 2, 3], [])), new byte[] { 1, 2 });
        var original = new Message
        {
            Type = MessageType.InstallSnapshot, From = 1, To = 2, Term = 3, LogTerm = 4, Index = 5, Commit = 6, Entries = [],
            Reject = true, RejectHint = 9, CommitOnly = true, Snapshot = old, Context = 11,
        };
        var replacement = old with { Data = new byte[] { 3, 4, 5 } };

        var copy = original.WithSnapshot(replacement);

        Assert.NotSame(original, copy);
        Assert.Same(replacement, copy.Snapshot);
        Assert.Same(old, original.Snapshot);
        Assert.Equal((original.Type, original.From, original.To, original.Term, original.LogTerm, original.Index, original.Commit),
            (copy.Type, copy.From, copy.To, copy.Term, copy.LogTerm, copy.Index, copy.Commit));
        Assert.Equal((original.Reject, original.RejectHint, original.CommitOnly, original.Context), (copy.Reject, copy.RejectHint, copy.CommitOnly, copy.Context));
        Assert.Same(original.Entries, copy.Entries);
    }
}
