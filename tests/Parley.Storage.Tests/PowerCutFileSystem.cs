using Parley.Storage;

namespace Parley.Storage.Tests;

/// <summary>Thrown instead of performing an I/O operation: the power went out just before it.</summary>
public sealed class PowerCutException : Exception
{
    public PowerCutException()
    {
    }

    public PowerCutException(string message) : base(message)
    {
    }

    public PowerCutException(string message, Exception inner) : base(message, inner)
    {
    }
}

/// <summary>
/// Wraps a <see cref="SimulatedFileSystem"/> and cuts the power at a chosen mutating operation (write, sync, create,
/// rename, delete, directory sync): that operation and everything after it never happen. Follow with
/// <see cref="SimulatedFileSystem.Crash"/> to see what survived.
/// </summary>
public sealed class PowerCutFileSystem(SimulatedFileSystem inner) : DelegatingFileSystem(inner)
{
    public SimulatedFileSystem Inner { get; } = inner;

    /// <summary>Mutating operations left before the cut; negative means never.</summary>
    public long OperationsBeforeCut { get; set; } = -1;

    /// <summary>When set, only file syncs count and are cut (the write before them still happens).</summary>
    public bool CutOnlySyncs { get; set; }

    public long OperationCount { get; private set; }

    internal void Tick(bool isSync)
    {
        if (CutOnlySyncs && !isSync)
        {
            return;
        }
        OperationCount++;
        if (OperationsBeforeCut == 0)
        {
            throw new PowerCutException("power cut");
        }
        if (OperationsBeforeCut > 0)
        {
            OperationsBeforeCut--;
        }
    }

    public override void CreateDirectory(string path)
    {
        Tick(false);
        base.CreateDirectory(path);
    }

    public override IStorageFile CreateFile(string path, long lengthBytes)
    {
        Tick(false);
        return base.CreateFile(path, lengthBytes);
    }

    public override IStorageFile CreateZeroedFile(string path, long lengthBytes, long zeroedBytes)
    {
        Tick(false);
        return base.CreateZeroedFile(path, lengthBytes, zeroedBytes);
    }

    public override void Rename(string sourcePath, string destinationPath)
    {
        Tick(false);
        base.Rename(sourcePath, destinationPath);
    }

    public override void DeleteFile(string path)
    {
        Tick(false);
        base.DeleteFile(path);
    }

    public override void SyncDirectory(string path)
    {
        Tick(true);
        base.SyncDirectory(path);
    }

    protected override IStorageFile Wrap(IStorageFile file) => new File(this, file);

    private sealed class File(PowerCutFileSystem owner, IStorageFile inner) : DelegatingStorageFile(inner)
    {
        public override void Write(long offset, ReadOnlySpan<byte> data)
        {
            owner.Tick(false);
            base.Write(offset, data);
        }

        public override void Sync()
        {
            owner.Tick(true);
            base.Sync();
        }
    }
}
