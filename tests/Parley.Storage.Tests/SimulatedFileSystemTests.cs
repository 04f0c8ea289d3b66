using Parley.Storage;

namespace Parley.Storage.Tests;

public class SimulatedFileSystemTests
{
    private static SimulatedFileSystem WithDirectory(int seed = 1)
    {
        var fileSystem = new SimulatedFileSystem(new Random(seed));
        fileSystem.CreateDirectory("/d");
        fileSystem.SyncDirectory("/");
        return fileSystem;
    }

    private static byte[] ReadAll(IFileSystem fileSystem, string path)
    {
        using var file = fileSystem.OpenFile(path, writable: false);
        var data = new byte[file.Length];
        file.Read(0, data);
        return data;
    }

    [Fact]
    public void Crash_LosesWritesNotYetSynced_AndKeepsSyncedOnes()
    {
        var fileSystem = WithDirectory();
        fileSystem.TearProbability = 0;
        using (var file = fileSystem.CreateFile("/d/f", 0))
        {
            file.Write(0, [1, 2, 3]);
            file.Sync();
            file.Write(3, [4, 5, 6]);
        }
        fileSystem.SyncDirectory("/d");
        fileSystem.Crash();
        Assert.Equal([1, 2, 3], ReadAll(fileSystem, "/d/f"));
    }

    [Fact]
    public void Crash_ForgetsAFileWhoseDirectoryWasNotSynced()
    {
        var fileSystem = WithDirectory();
        using (var file = fileSystem.CreateFile("/d/f", 10))
        {
            file.Sync();
        }
        fileSystem.Crash();
        Assert.False(fileSystem.FileExists("/d/f"));
    }

    [Fact]
    public void Crash_UndoesARenameNotYetMadeDurable()
    {
        var fileSystem = WithDirectory();
        using (var file = fileSystem.CreateFile("/d/a", 1))
        {
            file.Sync();
        }
        fileSystem.SyncDirectory("/d");
        fileSystem.Rename("/d/a", "/d/b");
        Assert.True(fileSystem.FileExists("/d/b"));
        fileSystem.Crash();
        Assert.True(fileSystem.FileExists("/d/a"));
        Assert.False(fileSystem.FileExists("/d/b"));
    }

    [Fact]
    public void Crash_MayTearTheLastUnsyncedWrite_AtSectorBoundaries_Only()
    {
        var sawTear = false;
        for (var seed = 0; seed < 40; seed++)
        {
            var fileSystem = WithDirectory(seed);
            fileSystem.TearProbability = 1;
            var data = new byte[4 * SimulatedFileSystem.SectorSizeBytes];
            Array.Fill(data, (byte)0xAB);
            using (var file = fileSystem.CreateFile("/d/f", data.Length))
            {
                file.Sync();
                file.Write(0, data);
            }
            fileSystem.SyncDirectory("/d");
            fileSystem.Crash();
            var survived = ReadAll(fileSystem, "/d/f");
            for (var sector = 0; sector < 4; sector++)
            {
                var piece = survived.AsSpan(sector * SimulatedFileSystem.SectorSizeBytes, SimulatedFileSystem.SectorSizeBytes);
                var whole = piece.IndexOfAnyExcept((byte)0xAB) < 0;
                var none = piece.IndexOfAnyExcept((byte)0) < 0;
                Assert.True(whole || none, $"seed {seed}: sector {sector} is partly written");
                sawTear |= whole;
            }
        }
        Assert.True(sawTear);
    }

    [Fact]
    public void Crash_IsDeterministic_ForTheSameSeed()
    {
        static byte[] Run(int seed)
        {
            var fileSystem = WithDirectory(seed);
            fileSystem.TearProbability = 1;
            using (var file = fileSystem.CreateFile("/d/f", 8192))
            {
                file.Sync();
                var data = new byte[8192];
                Array.Fill(data, (byte)7);
                file.Write(0, data);
            }
            fileSystem.SyncDirectory("/d");
            fileSystem.Crash();
            return ReadAll(fileSystem, "/d/f");
        }
        for (var seed = 0; seed < 10; seed++)
        {
            Assert.Equal(Run(seed), Run(seed));
        }
    }

    [Fact]
    public void FailedSync_DropsTheDirtyData_SoACrashLosesIt()
    {
        var fileSystem = WithDirectory();
        fileSystem.TearProbability = 0;
        using (var file = fileSystem.CreateFile("/d/f", 0))
        {
            file.Sync();
            file.Write(0, [9, 9]);
            fileSystem.FailNextSyncs(1);
            Assert.Throws<IOException>(file.Sync);
            file.Sync(); // "succeeds", but the pages were already marked clean: nothing to write
        }
        fileSystem.SyncDirectory("/d");
        fileSystem.Crash();
        Assert.DoesNotContain((byte)9, ReadAll(fileSystem, "/d/f"));
    }

    [Fact]
    public void Writes_BeyondCapacity_ThrowStorageFull()
    {
        var fileSystem = WithDirectory();
        fileSystem.CapacityBytes = 1000;
        using var file = fileSystem.CreateFile("/d/f", 600);
        Assert.Throws<StorageFullException>(() => fileSystem.CreateFile("/d/g", 600));
        Assert.Throws<StorageFullException>(() => file.Write(900, new byte[200]));
        file.Write(0, new byte[600]);
    }
}
