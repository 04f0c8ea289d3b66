namespace Parley.Mvcc;

/// <summary>mvccpb.Event.EventType (same numbers as the proto).</summary>
public enum EventType
{
    Put = 0,
    Delete = 1,
}
