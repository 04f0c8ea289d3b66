namespace Parley.Bench;

/// <summary>A bench option is wrong; the message names the option and says why.</summary>
public sealed class BenchOptionsException : Exception
{
    public BenchOptionsException()
    {
    }

    public BenchOptionsException(string message)
        : base(message)
    {
    }

    public BenchOptionsException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
