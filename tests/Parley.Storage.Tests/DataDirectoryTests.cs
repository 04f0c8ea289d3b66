using Parley.Raft;
using Parley.Storage;
using static Parley.Storage.Tests.StorageTestKit;

namespace Parley.Storage.Tests;

public class DataDirectoryTests
{
    private static SimulatedFileSystem WithMember()
    {
        var fileSystem = new SimulatedFileSystem(new Random(1));
        using var storage = Open(fileSystem);
        storage.Append(new HardState(1, 1, 0), Entries(1, 5));
        storage.Sync();
        return fileSystem;
    }

    [Fact]
    public void Open_RefusesTheDataDirectory_OfAnotherMember()
    {
        var fileSystem = WithMember();
        var error = Assert.Throws<StorageRefusedException>(() =>
            MemberStorage.Open(fileSystem, DataDirectory, Identity with { MemberId = 2 }, Options()));
        Assert.Contains("belongs to", error.Message, StringComparison.Ordinal);
        Assert.Contains("--data-dir", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_RefusesTheDataDirectory_OfAnotherCluster()
    {
        var fileSystem = WithMember();
        Assert.Throws<StorageRefusedException>(() =>
            MemberStorage.Open(fileSystem, DataDirectory, Identity with { ClusterId = 0xBEEF }, Options()));
    }

    [Fact]
    public void Open_RefusesADataDirectory_OfAnUnknownFormatVersion()
    {
        var fileSystem = WithMember();
        fileSystem.FlipBit(DataDirectory + "/" + StorageFormat.IdentityFileName, 8, 3); // version 1 -> 9
        var error = Assert.Throws<StorageRefusedException>(() => Open(fileSystem));
        Assert.Contains("format version 9", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_RefusesASegment_CopiedFromAnotherMember()
    {
        var fileSystem = new SimulatedFileSystem(new Random(1));
        using (var other = MemberStorage.Open(fileSystem, "/data/member-2", Identity with { MemberId = 2 }, Options()))
        {
            other.Append(new HardState(1, 1, 0), Entries(1, 5));
            other.Sync();
        }
        using (var storage = Open(fileSystem))
        {
        }
        // An operator copies member 2's first segment over member 1's.
        using (var source = fileSystem.OpenFile("/data/member-2/wal/" + StorageFormat.SegmentFileName(0), writable: false))
        using (var target = fileSystem.OpenFile(WalDirectory + "/" + StorageFormat.SegmentFileName(0), writable: true))
        {
            var bytes = new byte[source.Length];
            source.Read(0, bytes);
            target.Write(0, bytes);
        }
        var error = Assert.Throws<StorageRefusedException>(() => Open(fileSystem));
        Assert.Contains("belongs to", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_RefusesANonEmptyDirectory_ThatIsNotAParleyDataDirectory()
    {
        var fileSystem = new SimulatedFileSystem(new Random(1));
        fileSystem.CreateDirectory(DataDirectory);
        fileSystem.CreateFile(DataDirectory + "/notes.txt", 10).Dispose();
        Assert.Throws<StorageRefusedException>(() => Open(fileSystem));
    }

    [Fact]
    public void Open_StartsAfresh_AfterAProcessKilledWhileWritingItsIdentityFile()
    {
        // unlike a power cut, a killed process leaves the unsynced temporary file behind
        var fileSystem = new SimulatedFileSystem(new Random(1));
        fileSystem.CreateDirectory(DataDirectory);
        using (var partial = fileSystem.CreateFile(DataDirectory + "/" + StorageFormat.IdentityFileName + StorageFormat.TemporaryExtension, 40))
        {
            partial.Write(0, new byte[] { 1, 2, 3 });
        }
        using (var storage = Open(fileSystem))
        {
            Assert.True(storage.Recovered.CreatedFresh);
            storage.Append(new HardState(1, 1, 0), Entries(1, 3));
            storage.Sync();
        }
        Assert.False(fileSystem.FileExists(DataDirectory + "/" + StorageFormat.IdentityFileName + StorageFormat.TemporaryExtension));
        using var reopened = Open(fileSystem);
        Assert.Equal(3, reopened.Recovered.Entries.Count);
    }

    [Fact]
    public void Open_SurvivesACrashDuringTheVeryFirstStart_AtEveryStep()
    {
        for (var cutAt = 0; ; cutAt++)
        {
            var fileSystem = new SimulatedFileSystem(new Random(cutAt));
            var powerCut = new PowerCutFileSystem(fileSystem) { OperationsBeforeCut = cutAt };
            try
            {
                Open(powerCut).Dispose();
                return; // no more steps to cut
            }
            catch (PowerCutException)
            {
            }
            fileSystem.Crash();
            using var storage = Open(fileSystem);
            Assert.Empty(storage.Recovered.Entries);
        }
    }
}
