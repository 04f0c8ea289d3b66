using System.Diagnostics;

namespace Parley.Torture;

/// <summary>
/// Starts a member process with its output appended to a log: <c>/bin/sh -c 'exec "$0" "$@" &gt;&gt;LOG'</c>, in netns
/// mode through <c>ip netns exec NS</c>. The shell execs <c>ip</c>, which enters the namespace and execs the member,
/// so the process id returned is the member's throughout (SIGKILL, SIGSTOP and SIGCONT reach it, never a wrapper).
/// </summary>
internal static class MemberLauncher
{
    public static Process Start(string? networkNamespace, string logPath, IReadOnlyList<string> command)
    {
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec \"$0\" \"$@\" >>\"$PARLEY_TORTURE_LOG\" 2>&1 </dev/null");
        start.Environment["PARLEY_TORTURE_LOG"] = logPath;
        if (networkNamespace is not null)
        {
            foreach (var argument in new[] { NetnsSupport.Ip, "netns", "exec", networkNamespace })
            {
                start.ArgumentList.Add(argument);
            }
        }
        foreach (var argument in command)
        {
            start.ArgumentList.Add(argument);
        }
        return Process.Start(start) ?? throw new InvalidOperationException("could not start " + string.Join(" ", command));
    }
}
