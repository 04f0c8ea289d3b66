namespace Parley.Checker.Search;

/// <summary>
/// An operation that could have come next after the longest partial linearization (called before the
/// blocking operation returned), and whether the model accepts it in the state reached there.
/// </summary>
public readonly record struct BlockedCandidate(int Operation, bool IsLegalNext);
