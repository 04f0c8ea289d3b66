using System.Runtime.InteropServices;

namespace Parley.Torture;

/// <summary>POSIX signals .NET does not send itself: SIGSTOP and SIGCONT to pause and resume a member, and signals to processes that are not its own children.</summary>
internal static class NativeSignals
{
    public const int Stop = 19;     // SIGSTOP on Linux x86-64 and arm64
    public const int Continue = 18; // SIGCONT
    public const int Kill = 9;      // SIGKILL
    public const int Terminate = 15; // SIGTERM

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int KillNative(int processId, int signal);

    public static void Send(int processId, int signal)
    {
        if (KillNative(processId, signal) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"kill({processId}, {signal}) failed: errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)})", errno);
        }
    }
}
