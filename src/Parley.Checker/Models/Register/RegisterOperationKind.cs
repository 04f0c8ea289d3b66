namespace Parley.Checker.Models.Register;

/// <summary>Operations on a single register.</summary>
public enum RegisterOperationKind
{
    Read,
    Write,
    CompareAndSet,
}
