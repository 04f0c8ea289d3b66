namespace Parley.Mvcc;

/// <summary>One entry of the effectively-once table.</summary>
internal sealed record RecordedRequest(string RequestId, long LogicalTime, WriteOutcome Outcome);
