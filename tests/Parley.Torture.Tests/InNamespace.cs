using System.Runtime.InteropServices;

namespace Parley.Torture.Tests;

/// <summary>
/// Creates something (a socket) inside a named network namespace: on a thread of its own that enters the namespace
/// with setns(2) and then ends, so no thread of the test process stays there. A socket keeps the namespace it was
/// made in.
/// </summary>
internal static class InNamespace
{
    private const int NewNetworkNamespace = 0x40000000; // CLONE_NEWNET

    public static T Create<T>(string networkNamespace, Func<T> create)
    {
        T? made = default;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle("/run/netns/" + networkNamespace);
                if (SetNamespace(handle.DangerousGetHandle().ToInt32(), NewNetworkNamespace) != 0)
                {
                    throw new IOException($"setns {networkNamespace}: errno {Marshal.GetLastPInvokeError()}");
                }
                made = create();
            }
            catch (Exception exception) when (exception is IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
            {
                failure = exception;
            }
        });
        thread.Start();
        thread.Join();
        return failure is null ? made! : throw new IOException("in namespace " + networkNamespace, failure);
    }

    [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static extern int SetNamespace(int descriptor, int kind);
}
