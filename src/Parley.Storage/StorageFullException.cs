namespace Parley.Storage;

/// <summary>The device has no room. Nothing that was durable before is damaged; the operation can be retried once space is freed.</summary>
public sealed class StorageFullException : IOException
{
    public StorageFullException()
    {
    }

    public StorageFullException(string message) : base(message)
    {
    }

    public StorageFullException(string message, Exception inner) : base(message, inner)
    {
    }
}
