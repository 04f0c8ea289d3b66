using Parley.Checker.Search;

namespace Parley.Checker.Models.KeyValue;

/// <summary>
/// A string map with get, put and append, partitioned per key (porcupine's kvModel): the state is one
/// key's string, initially empty; get returns the whole string, append concatenates.
/// </summary>
public sealed class KeyValueModel : IModel<string, KeyValueInput, KeyValueOutput>, IPartitionableModel<KeyValueInput>
{
    public static KeyValueModel Instance { get; } = new();

    /// <inheritdoc />
    public string InitialState => string.Empty;

    /// <inheritdoc />
    public string PartitionKey(KeyValueInput input) => input.Key;

    /// <inheritdoc />
    public bool TryStep(string state, KeyValueInput input, KeyValueOutput output, out string nextState)
    {
        switch (input.Kind)
        {
            case KeyValueOperationKind.Get:
                nextState = state;
                return output.IsUnknown || string.Equals(output.Value, state, StringComparison.Ordinal);
            case KeyValueOperationKind.Put:
                nextState = input.Value;
                return true;
            case KeyValueOperationKind.Append:
                nextState = string.Concat(state, input.Value);
                return true;
            default:
                throw new ArgumentOutOfRangeException(nameof(input), input.Kind, "unknown key-value operation");
        }
    }

    /// <inheritdoc />
    public bool AreEqual(string left, string right) => string.Equals(left, right, StringComparison.Ordinal);

    /// <inheritdoc />
    public ulong Hash(string state) => HashMixer.HashString(state);

    /// <inheritdoc />
    public string DescribeOperation(KeyValueInput input, KeyValueOutput output) => input.Kind switch
    {
        KeyValueOperationKind.Get => $"get({Quote(input.Key)}) -> {(output.IsUnknown ? "?" : Quote(output.Value))}",
        KeyValueOperationKind.Put => $"put({Quote(input.Key)}, {Quote(input.Value)})",
        _ => $"append({Quote(input.Key)}, {Quote(input.Value)})",
    };

    /// <inheritdoc />
    public string DescribeState(string state) => Quote(state);

    private static string Quote(string value) => "\"" + value + "\"";
}
