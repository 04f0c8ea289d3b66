using System.Globalization;
using System.Runtime.InteropServices;

namespace Parley.Bench.Comparison;

/// <summary>CPU time and resident memory of a process, from Linux's /proc (the same figures for etcd and Parley).</summary>
public static class ProcessStats
{
    private const int SysconfClockTicks = 2; // _SC_CLK_TCK

    private static readonly Lazy<long> ClockTicksPerSecond = new(() =>
    {
        var ticks = SysconfNative(SysconfClockTicks);
        return ticks > 0 ? ticks : 100;
    });

    [DllImport("libc", EntryPoint = "sysconf")]
    private static extern long SysconfNative(int name);

    /// <summary>User + system CPU seconds the process has used (fields 14 and 15 of /proc/pid/stat); null if it is gone.</summary>
    public static double? CpuSeconds(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
        return ParseStatCpuTicks(text) is { } ticks ? (double)ticks / ClockTicksPerSecond.Value : null;
    }

    /// <summary>utime + stime in clock ticks from a /proc/pid/stat line (the command name may hold spaces and parentheses).</summary>
    public static long? ParseStatCpuTicks(string stat)
    {
        var close = stat.LastIndexOf(')');
        if (close < 0)
        {
            return null;
        }
        // after "pid (comm) " come field 3 (state) onwards; utime is field 14, stime field 15
        var fields = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 13
            || !long.TryParse(fields[11], NumberStyles.None, CultureInfo.InvariantCulture, out var user)
            || !long.TryParse(fields[12], NumberStyles.None, CultureInfo.InvariantCulture, out var system))
        {
            return null;
        }
        return user + system;
    }

    /// <summary>Peak resident set (VmHWM) in bytes; null if the process is gone.</summary>
    public static long? PeakResidentBytes(int pid) => StatusKilobytes(pid, "VmHWM:") * 1024;

    /// <summary>Current resident set (VmRSS) in bytes; null if the process is gone.</summary>
    public static long? ResidentBytes(int pid) => StatusKilobytes(pid, "VmRSS:") * 1024;

    private static long? StatusKilobytes(int pid, string field)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/status");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
        return ParseStatusKilobytes(lines, field);
    }

    /// <summary>The value of a "Name:   1234 kB" line of /proc/pid/status.</summary>
    public static long? ParseStatusKilobytes(IEnumerable<string> lines, string field)
    {
        foreach (var line in lines)
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                var parts = line[field.Length..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 1 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var kilobytes))
                {
                    return kilobytes;
                }
            }
        }
        return null;
    }
}
