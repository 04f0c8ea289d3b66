namespace Parley.Raft;

/// <summary>Always-on assertions: a broken invariant stops the member rather than letting it continue wrong.</summary>
public static class Invariant
{
    public static void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvariantViolationException(message);
        }
    }
}
