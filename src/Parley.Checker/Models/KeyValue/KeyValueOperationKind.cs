namespace Parley.Checker.Models.KeyValue;

/// <summary>Operations on a string key-value map.</summary>
public enum KeyValueOperationKind
{
    Get,
    Put,
    Append,
}
