namespace Parley.Bench;

/// <summary>A server answered, but not what the workload expects (counted as an error of its own kind).</summary>
public sealed class BenchCheckException : Exception
{
    public BenchCheckException()
    {
    }

    public BenchCheckException(string message)
        : base(message)
    {
    }

    public BenchCheckException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
