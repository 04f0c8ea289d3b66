using Parley.Checker.Search;

namespace Parley.Checker.Models.Register;

/// <summary>
/// One register with read, write and compare-and-set, initially absent (null). Matches porcupine's
/// etcd register test model: an unknown read constrains nothing; an unknown write or compare-and-set
/// still takes effect at the point where it is linearized (and since its return is at +infinity, it may
/// be linearized after everything else, which is the same as never taking effect).
/// </summary>
public sealed class RegisterModel : IModel<string?, RegisterInput, RegisterOutput>
{
    public static RegisterModel Instance { get; } = new();

    /// <inheritdoc />
    public string? InitialState => null;

    /// <inheritdoc />
    public bool TryStep(string? state, RegisterInput input, RegisterOutput output, out string? nextState)
    {
        switch (input.Kind)
        {
            case RegisterOperationKind.Read:
                nextState = state;
                return output.IsUnknown || string.Equals(output.Value, state, StringComparison.Ordinal);
            case RegisterOperationKind.Write:
                nextState = input.Value;
                return true;
            case RegisterOperationKind.CompareAndSet:
                var matches = string.Equals(input.ExpectedValue, state, StringComparison.Ordinal);
                nextState = matches ? input.Value : state;
                return output.IsUnknown || output.Succeeded == matches;
            default:
                throw new ArgumentOutOfRangeException(nameof(input), input.Kind, "unknown register operation");
        }
    }

    /// <inheritdoc />
    public bool AreEqual(string? left, string? right) => string.Equals(left, right, StringComparison.Ordinal);

    /// <inheritdoc />
    public ulong Hash(string? state) => HashMixer.HashString(state);

    /// <inheritdoc />
    public string DescribeOperation(RegisterInput input, RegisterOutput output)
    {
        var result = output.IsUnknown ? "?" : input.Kind switch
        {
            RegisterOperationKind.Read => Show(output.Value),
            RegisterOperationKind.Write => "ok",
            _ => output.Succeeded ? "ok" : "failed",
        };
        return input.Kind switch
        {
            RegisterOperationKind.Read => $"read() -> {result}",
            RegisterOperationKind.Write => $"write({Show(input.Value)}) -> {result}",
            _ => $"cas({Show(input.ExpectedValue)}, {Show(input.Value)}) -> {result}",
        };
    }

    /// <inheritdoc />
    public string DescribeState(string? state) => Show(state);

    private static string Show(string? value) => value ?? "nil";
}
