namespace Parley.Storage;

/// <summary>A torn tail that recovery truncated: which file, from which offset, why, and how many complete records it dropped with it.</summary>
public sealed record WalRepair(string File, long Offset, string Problem, int RecordsDropped)
{
    public override string ToString() =>
        $"torn write truncated: {File} from offset {Offset} ({Problem}; {RecordsDropped} unsynced record(s) of the same write dropped)";
}
