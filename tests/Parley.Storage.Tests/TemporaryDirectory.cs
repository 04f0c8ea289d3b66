namespace Parley.Storage.Tests;

/// <summary>A fresh directory under /tmp, removed on dispose.</summary>
internal sealed class TemporaryDirectory : IDisposable
{
    public TemporaryDirectory(string purpose)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"parley-{purpose}-{Environment.ProcessId}-{Guid.NewGuid():N}");
    }

    public string Path { get; }

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
