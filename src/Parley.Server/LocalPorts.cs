using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Parley.Server;

/// <summary>
/// Ports for the servers that tests, <c>parley bench compare</c> and <c>parley torture</c> start on 127.0.0.1, chosen
/// below the kernel's ephemeral range. A port the kernel hands out (bind to port 0) is free only until it is released:
/// an outgoing connection may then take it as its local port before the server binds it, and a member's own peer
/// connections did exactly that in CI ("address already in use" for a member's client URL, every test of the fixture
/// lost). Outgoing connections never take a port below the range. Test assemblies run side by side, each choosing at
/// random: a port handed out is claimed for <see cref="ClaimLifetime"/>, in this process and, by a file created only if
/// absent, across processes (one clean-clone CI run lost a cluster to a port that another test had chosen too).
/// </summary>
public static class LocalPorts
{
    private const int Lowest = 10_000;
    private const int AttemptsMax = 10_000;
    private static readonly TimeSpan ClaimLifetime = TimeSpan.FromMinutes(10);
    private static readonly string ClaimDirectory = Path.Combine(Path.GetTempPath(), "parley-ports");
    private static readonly Dictionary<int, DateTime> Claimed = [];
    private static readonly Lock ClaimedLock = new();

    /// <summary><paramref name="count"/> distinct ports that were free a moment ago.</summary>
    public static int[] Free(int count)
    {
        var highest = EphemeralLowest() - 1;
        var listeners = new List<TcpListener>();
        try
        {
            for (var attempt = 0; listeners.Count < count; attempt++)
            {
                if (attempt == AttemptsMax)
                {
                    throw new InvalidOperationException($"found {listeners.Count} of {count} free ports in [{Lowest}, {highest}]");
                }
                var port = Random.Shared.Next(Lowest, highest + 1);
                if (listeners.Exists(listener => ((IPEndPoint)listener.LocalEndpoint).Port == port) || !TryClaim(port))
                {
                    continue;
                }
                var candidate = new TcpListener(IPAddress.Loopback, port);
                try
                {
                    candidate.Start();
                    listeners.Add(candidate);
                }
                catch (SocketException)
                {
                    candidate.Dispose(); // in use: try another
                }
            }
            return listeners.Select(listener => ((IPEndPoint)listener.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            listeners.ForEach(listener => listener.Dispose());
        }
    }

    /// <summary>False when this process or another handed <paramref name="port"/> out less than <see cref="ClaimLifetime"/> ago.</summary>
    private static bool TryClaim(int port)
    {
        var now = DateTime.UtcNow;
        lock (ClaimedLock)
        {
            if (Claimed.TryGetValue(port, out var at) && now - at < ClaimLifetime)
            {
                return false;
            }
            if (!TryClaimAcrossProcesses(port, now))
            {
                return false;
            }
            Claimed[port] = now;
            return true;
        }
    }

    /// <summary>Creates the port's claim file unless another process's fresh one is there; true also when no file can be kept at all.</summary>
    private static bool TryClaimAcrossProcesses(int port, DateTime now)
    {
        string path;
        try
        {
            Directory.CreateDirectory(ClaimDirectory);
            path = Path.Combine(ClaimDirectory, port.ToString(CultureInfo.InvariantCulture));
            if (File.Exists(path))
            {
                if (now - File.GetLastWriteTimeUtc(path) < ClaimLifetime)
                {
                    return false;
                }
                File.Delete(path); // a stale claim
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return true; // no shared claims here (say, a read-only temporary directory): this process's own still hold
        }
        try
        {
            using (new FileStream(path, FileMode.CreateNew, FileAccess.Write))
            {
                // it exists now: another process's CreateNew fails
            }
            return true;
        }
        catch (IOException) when (File.Exists(path))
        {
            return false; // another process claimed it in between
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return true;
        }
    }

    /// <summary>The first port of the kernel's ephemeral range (Linux's default 32768 when it cannot be read, or when it is too low to leave room below).</summary>
    private static int EphemeralLowest()
    {
        const int LinuxDefault = 32_768;
        try
        {
            var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            var lowest = int.Parse(range[0], CultureInfo.InvariantCulture);
            return lowest > Lowest + 1_000 ? lowest : LinuxDefault;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return LinuxDefault;
        }
    }
}
