namespace Parley.Mvcc;

/// <summary>
/// What <see cref="MvccStore.ReadEvents"/> reads: events from <see cref="StartRevision"/> on,
/// optionally only for [Key, RangeEnd) (empty Key = every key; empty RangeEnd = one key; "\0" = every
/// key ≥ Key), at most about <see cref="EventsMax"/> events but never splitting a revision.
/// </summary>
public readonly record struct EventQuery(long StartRevision, byte[]? Key, byte[]? RangeEnd, bool PrevKv, int EventsMax);
