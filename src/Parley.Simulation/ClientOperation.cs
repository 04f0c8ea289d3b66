namespace Parley.Simulation;

public enum OperationKind : byte
{
    Write,
    Read,
}

public enum OperationOutcome : byte
{
    Pending,
    Ok,
    /// <summary>Definitely not applied (refused, or its log slot went to another entry).</summary>
    Failed,
    /// <summary>Timed out: it may or may not have taken effect.</summary>
    Unknown,
}

/// <summary>One client request and what became of it.</summary>
public sealed class ClientOperation
{
    public required ulong Id { get; init; }
    public required int ClientId { get; init; }
    public required OperationKind Kind { get; init; }
    public required int Key { get; init; }
    public ulong Value { get; init; }
    public required long InvokeMicros { get; init; }
    public long CompleteMicros { get; set; }
    public OperationOutcome Outcome { get; set; }
    public int Attempts { get; set; }
    /// <summary>A write's log index; for a read, the index of the write whose value it saw.</summary>
    public ulong ResultIndex { get; set; }
    public ulong ResultValue { get; set; }
    /// <summary>For a read: the highest index of a write to its key acknowledged before the read began.</summary>
    public ulong RequiredIndex { get; init; }

    public override string ToString() =>
        $"op{Id} c{ClientId} {Kind} k{Key}" + (Kind == OperationKind.Write ? $"={Value}" : "") +
        $" {Outcome} idx={ResultIndex}" + (Kind == OperationKind.Read ? $" val={ResultValue} required={RequiredIndex}" : "");
}
