namespace Parley.Mvcc;

/// <summary>A response or an expected error; expected failures are results, never exceptions.</summary>
public readonly struct MvccResult<T> : IEquatable<MvccResult<T>>
    where T : class
{
    private MvccResult(T? value, MvccError error)
    {
        Value = value;
        Error = error;
    }

    /// <summary>The response; null exactly when <see cref="Error"/> is not <see cref="MvccError.None"/>.</summary>
    public T? Value { get; }

    public MvccError Error { get; }

    public bool IsSuccess => Error == MvccError.None;

    /// <summary>etcd's exact message for the error ("" on success).</summary>
    public string ErrorMessage => MvccErrors.Message(Error);

    public MvccStatusCode StatusCode => MvccErrors.StatusCode(Error);

#pragma warning disable CA1000 // factory methods on the result type read best at call sites
    public static MvccResult<T> Success(T value) => new(value, MvccError.None);

    public static MvccResult<T> Failure(MvccError error)
    {
        Invariant.Check(error != MvccError.None, "a failure needs an error");
        return new MvccResult<T>(null, error);
    }
#pragma warning restore CA1000

    public bool Equals(MvccResult<T> other) => ReferenceEquals(Value, other.Value) && Error == other.Error;

    public override bool Equals(object? obj) => obj is MvccResult<T> other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Value, Error);

    public static bool operator ==(MvccResult<T> left, MvccResult<T> right) => left.Equals(right);

    public static bool operator !=(MvccResult<T> left, MvccResult<T> right) => !left.Equals(right);

    public override string ToString() => IsSuccess ? $"ok {Value}" : $"error {ErrorMessage}";
}
