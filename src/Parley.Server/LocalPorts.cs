using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Parley.Server;

/// <summary>
/// Ports for the servers that tests, <c>parley bench compare</c> and <c>parley torture</c> start on 127.0.0.1, chosen
/// below the kernel's ephemeral range. A port the kernel hands out (bind to port 0) is free only until it is released:
/// an outgoing connection may then take it as its local port before the server binds it, and a member's own peer
/// connections did exactly that in CI ("address already in use" for a member's client URL, every test of the fixture
/// lost). Outgoing connections never take a port below the range; another process choosing the same port at random is
/// the remaining, much smaller, chance.
/// </summary>
public static class LocalPorts
{
    private const int Lowest = 10_000;
    private const int AttemptsMax = 10_000;

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
                if (listeners.Exists(listener => ((IPEndPoint)listener.LocalEndpoint).Port == port))
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
