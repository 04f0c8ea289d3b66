namespace Parley.Checker.Models.KeyValue;

/// <summary>A key-value request; <see cref="Value"/> is the put or appended string (unused by get).</summary>
public readonly record struct KeyValueInput(KeyValueOperationKind Kind, string Key, string Value = "");
