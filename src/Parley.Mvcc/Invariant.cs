namespace Parley.Mvcc;

/// <summary>Always-on assertions: a broken invariant of the keyspace is a bug, so fail fast.</summary>
internal static class Invariant
{
    public static void Check(bool condition, string message)
    {
        if (!condition)
        {
            Fail(message);
        }
    }

    private static void Fail(string message) => throw new InvalidOperationException("mvcc invariant violated: " + message);
}
