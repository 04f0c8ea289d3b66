namespace Parley.Storage;

/// <summary>The data directory is valid but not ours to use: another format version, cluster or member.</summary>
public sealed class StorageRefusedException : Exception
{
    public StorageRefusedException()
    {
    }

    public StorageRefusedException(string message) : base(message)
    {
    }

    public StorageRefusedException(string message, Exception inner) : base(message, inner)
    {
    }
}
