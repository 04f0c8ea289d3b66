namespace Parley.Checker.Models.Register;

/// <summary>A register request. <see cref="Value"/> is the written value (write) or the new value (compare-and-set); null means "absent".</summary>
public readonly record struct RegisterInput(RegisterOperationKind Kind, string? Value = null, string? ExpectedValue = null)
{
    public static RegisterInput Read() => new(RegisterOperationKind.Read);

    public static RegisterInput Write(string value) => new(RegisterOperationKind.Write, value);

    public static RegisterInput CompareAndSet(string? expectedValue, string value) => new(RegisterOperationKind.CompareAndSet, value, expectedValue);
}
