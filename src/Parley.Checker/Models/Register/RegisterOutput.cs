namespace Parley.Checker.Models.Register;

/// <summary>
/// A register response: the value read (null = absent), whether a compare-and-set succeeded, or
/// <see cref="IsUnknown"/> when the client never learned the outcome (timeout, lost connection).
/// </summary>
public readonly record struct RegisterOutput(bool IsUnknown, string? Value = null, bool Succeeded = false)
{
    public static RegisterOutput Unknown { get; } = new(IsUnknown: true);

    public static RegisterOutput ReadValue(string? value) => new(false, value);

    public static RegisterOutput Written { get; } = new(false, Succeeded: true);

    public static RegisterOutput CompareAndSetResult(bool succeeded) => new(false, Succeeded: succeeded);
}
