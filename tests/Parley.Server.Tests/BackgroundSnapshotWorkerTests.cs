namespace Parley.Server.Tests;

public class BackgroundSnapshotWorkerTests
{
    [Fact]
    public void LowerOwnPriority_LowersOnlyTheCallingThread()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Null(BackgroundSnapshotWorker.CurrentNiceness());
            return;
        }
        var before = BackgroundSnapshotWorker.CurrentNiceness();
        Assert.NotNull(before);
        int? lowered = null;
        var thread = new Thread(() =>
        {
            BackgroundSnapshotWorker.LowerOwnPriority();
            lowered = BackgroundSnapshotWorker.CurrentNiceness();
        });
        thread.Start();
        thread.Join();
        // a niceness can only be raised without privileges: a test run already nicer than the worker's stays so
        Assert.Equal(Math.Max(before!.Value, BackgroundSnapshotWorker.Niceness), lowered);
        Assert.Equal(before, BackgroundSnapshotWorker.CurrentNiceness()); // the thread's own, not the process's
    }
}
