using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Parley.Torture;

/// <summary>
/// A delay line for kernels without sch_netem: a tap device, a port of the members' bridge that neither learns
/// addresses nor receives floods, so the only frames it gets are the ones the redirect rules forward to it. A thread
/// of this process reads each frame, holds it for the delay (plus a jitter drawn per frame, so frames may overtake
/// each other as with netem), and writes it back into the tap, whence the bridge delivers it to its destination. The
/// packets are real (TCP sees the longer round trip and retransmits as it would over a slow link); only the waiting
/// happens in user space. The tap is not persistent: it disappears when this process closes it or dies.
/// </summary>
internal sealed class TapDelayLine : IDelayLine
{
    private const int ReadWrite = 2;
    private const int NonBlocking = 0x800;
    private const int CloseOnExec = 0x80000; // members started later must not inherit (and so keep alive) the tap
    private const ulong TunSetInterface = 0x400454ca; // TUNSETIFF
    private const short TapMode = 0x0002;            // IFF_TAP
    private const short NoPacketInformation = 0x1000; // IFF_NO_PI
    private const short PollIn = 1;
    private const int Interrupted = 4;                 // EINTR
    private const int FrameBytesMax = 65_536;
    private const int QueuedFramesMax = 50_000;
    private const int PollMsMax = 50;

    private readonly int _descriptor;
    private readonly Thread _thread;
    private readonly Random _random;
    private readonly PriorityQueue<byte[], long> _queue = new();
    private volatile bool _stopping;
    private int _delayMs;
    private int _jitterMs;
    private long _framesDelayed;
    private long _framesDropped;

    private TapDelayLine(string device, int descriptor, int seed)
    {
        Device = device;
        _descriptor = descriptor;
        _random = new Random(seed);
        _thread = new Thread(Run) { IsBackground = true, Name = "tap delay line " + device };
    }

    public string Device { get; }

    public string Mechanism => "a user-space delay line (tap device; this kernel has no sch_netem)";

    /// <summary>Frames held and written back so far.</summary>
    public long FramesDelayed => Interlocked.Read(ref _framesDelayed);

    /// <summary>Frames dropped because the line was full (more than it may hold at once).</summary>
    public long FramesDropped => Interlocked.Read(ref _framesDropped);

    /// <summary>Creates the tap (TUNSETIFF on /dev/net/tun) and starts the thread; the caller puts it in the bridge.</summary>
    public static TapDelayLine Create(string device, int seed)
    {
        var descriptor = Native.Open("/dev/net/tun", ReadWrite | NonBlocking | CloseOnExec);
        if (descriptor < 0)
        {
            throw new NetnsException("open /dev/net/tun: " + Native.LastError());
        }
        var request = new byte[40]; // struct ifreq: the name, then the flags
        var name = System.Text.Encoding.ASCII.GetBytes(device);
        if (name.Length > 15)
        {
            Native.Close(descriptor);
            throw new NetnsException($"device name {device} is longer than 15 characters");
        }
        name.CopyTo(request, 0);
        BitConverter.TryWriteBytes(request.AsSpan(16), (short)(TapMode | NoPacketInformation));
        if (Native.IoControl(descriptor, TunSetInterface, request) < 0)
        {
            var error = Native.LastError();
            Native.Close(descriptor);
            throw new NetnsException($"TUNSETIFF {device}: {error}");
        }
        var line = new TapDelayLine(device, descriptor, seed);
        line._thread.Start();
        return line;
    }

    public void SetDelay(int delayMs, int jitterMs)
    {
        Volatile.Write(ref _jitterMs, Math.Max(0, jitterMs));
        Volatile.Write(ref _delayMs, Math.Max(0, delayMs));
    }

    public void Dispose()
    {
        _stopping = true;
        if (_thread.IsAlive && !_thread.Join(TimeSpan.FromSeconds(5)))
        {
            return; // never close a descriptor a live thread may still use
        }
        Native.Close(_descriptor);
    }

    private void Run()
    {
        var buffer = new byte[FrameBytesMax];
        while (!_stopping)
        {
            var waitMs = PollMsMax;
            if (_queue.TryPeek(out _, out var due))
            {
                waitMs = (int)Math.Clamp((due - Stopwatch.GetTimestamp()) * 1000 / Stopwatch.Frequency, 0, PollMsMax);
            }
            var poll = new Native.PollDescriptor { Descriptor = _descriptor, Events = PollIn };
            if (Native.Poll(ref poll, 1, waitMs) > 0)
            {
                ReadAll(buffer);
            }
            WriteDue();
        }
    }

    private void ReadAll(byte[] buffer)
    {
        while (true)
        {
            var read = (int)Native.Read(_descriptor, buffer, buffer.Length);
            if (read <= 0)
            {
                return; // EAGAIN: nothing more for now
            }
            if (_queue.Count >= QueuedFramesMax)
            {
                Interlocked.Increment(ref _framesDropped);
                continue;
            }
            var delayMs = Volatile.Read(ref _delayMs);
            var jitterMs = Volatile.Read(ref _jitterMs);
            var holdMs = delayMs + (jitterMs > 0 ? _random.Next(jitterMs + 1) : 0);
            _queue.Enqueue(buffer.AsSpan(0, read).ToArray(), Stopwatch.GetTimestamp() + holdMs * Stopwatch.Frequency / 1000);
        }
    }

    private void WriteDue()
    {
        var now = Stopwatch.GetTimestamp();
        while (_queue.TryPeek(out var frame, out var due) && due <= now)
        {
            _queue.Dequeue();
            while (Native.Write(_descriptor, frame, frame.Length) < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno != Interrupted)
                {
                    Interlocked.Increment(ref _framesDropped); // EAGAIN or the device going away: the packet is lost
                    break;
                }
            }
            Interlocked.Increment(ref _framesDelayed);
        }
    }

    private static class Native
    {
        [StructLayout(LayoutKind.Sequential)]
        public struct PollDescriptor
        {
            public int Descriptor;
            public short Events;
            public short ReturnedEvents;
        }

        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        public static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", EntryPoint = "ioctl", SetLastError = true)]
        public static extern int IoControl(int descriptor, ulong request, byte[] argument);

        [DllImport("libc", EntryPoint = "read", SetLastError = true)]
        public static extern nint Read(int descriptor, byte[] buffer, nint count);

        [DllImport("libc", EntryPoint = "write", SetLastError = true)]
        public static extern nint Write(int descriptor, byte[] buffer, nint count);

        [DllImport("libc", EntryPoint = "poll", SetLastError = true)]
        public static extern int Poll(ref PollDescriptor descriptors, nuint count, int timeoutMs);

        [DllImport("libc", EntryPoint = "close", SetLastError = true)]
        public static extern int Close(int descriptor);

        public static string LastError()
        {
            var errno = Marshal.GetLastPInvokeError();
            return $"errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)})";
        }
    }
}
