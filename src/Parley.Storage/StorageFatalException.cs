namespace Parley.Storage;

/// <summary>
/// A sync (or a rename or directory sync that durability depends on) failed. The kernel may already have dropped the
/// dirty pages, so retrying could report data durable that is not: the process must stop and recover from disk.
/// Thrown after <see cref="StorageOptions.FatalHandler"/> returns (in production it does not return).
/// </summary>
public sealed class StorageFatalException : Exception
{
    public StorageFatalException()
    {
    }

    public StorageFatalException(string message) : base(message)
    {
    }

    public StorageFatalException(string message, Exception inner) : base(message, inner)
    {
    }
}
