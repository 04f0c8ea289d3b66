using Parley.Bench.Comparison;

namespace Parley.Bench.Tests;

public sealed class ProcessStatsTests
{
    [Fact]
    public void StatLine_GivesUserPlusSystemTicks_EvenWithSpacesAndParenthesesInTheName()
    {
        const string stat = "4242 (dotnet (x) y) S 1 4242 4242 0 -1 4194304 12345 0 0 0 1500 230 0 0 20 0 30 0 123456 1000000 5000 18446744073709551615";
        Assert.Equal(1730, ProcessStats.ParseStatCpuTicks(stat));
        Assert.Null(ProcessStats.ParseStatCpuTicks("garbage"));
    }

    [Fact]
    public void StatusLines_GiveKilobytes_WithTabsOrSpaces()
    {
        string[] status = ["Name:\tetcd", "VmPeak:\t 2000000 kB", "VmHWM:\t   81234 kB", "VmRSS:    70000 kB"];
        Assert.Equal(81234, ProcessStats.ParseStatusKilobytes(status, "VmHWM:"));
        Assert.Equal(70000, ProcessStats.ParseStatusKilobytes(status, "VmRSS:"));
        Assert.Null(ProcessStats.ParseStatusKilobytes(status, "VmSwap:"));
    }

    [Fact]
    public void ThisProcess_HasCpuTimeAndResidentMemory()
    {
        var pid = Environment.ProcessId;
        var spin = 0L;
        for (var i = 0; i < 50_000_000; i++)
        {
            spin += i % 7;
        }
        Assert.True(spin > 0);
        Assert.True(ProcessStats.CpuSeconds(pid) > 0);
        var resident = ProcessStats.ResidentBytes(pid);
        var peak = ProcessStats.PeakResidentBytes(pid);
        Assert.True(resident > 1024 * 1024, $"resident {resident}");
        Assert.True(peak >= resident, $"peak {peak} < resident {resident}");
    }

    [Fact]
    public void AProcessThatIsGone_HasNoFigures()
    {
        Assert.Null(ProcessStats.CpuSeconds(int.MaxValue));
        Assert.Null(ProcessStats.PeakResidentBytes(int.MaxValue));
    }
}
