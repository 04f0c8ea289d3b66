namespace Parley.Raft;

/// <summary>Thrown when code finds its own state impossible. Never caught to continue: it means a bug.</summary>
public sealed class InvariantViolationException : Exception
{
    public InvariantViolationException()
    {
    }

    public InvariantViolationException(string message) : base(message)
    {
    }

    public InvariantViolationException(string message, Exception inner) : base(message, inner)
    {
    }
}
