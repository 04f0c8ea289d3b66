namespace Parley.Checker.Models.KeyValue;

/// <summary>A key-value response: the value a get returned, or <see cref="IsUnknown"/> when the client never learned the outcome.</summary>
public readonly record struct KeyValueOutput(bool IsUnknown, string Value = "")
{
    public static KeyValueOutput Unknown { get; } = new(IsUnknown: true);

    public static KeyValueOutput Completed(string value) => new(false, value);
}
