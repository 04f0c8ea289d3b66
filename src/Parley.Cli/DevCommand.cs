using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Parley.Cli;

/// <summary>
/// <c>parley dev</c>: a local cluster in one command. Each member is a child <c>parley serve</c> process (so one can
/// be killed to watch the others keep serving); output is prefixed with the member's name; Ctrl-C or SIGTERM stops
/// every member cleanly (SIGTERM to each, then wait).
/// </summary>
internal static class DevCommand
{
    private static readonly int[] ClientPorts = [2379, 22379, 32379, 42379, 52379];
    private static readonly int[] PeerPorts = [2380, 22380, 32380, 42380, 52380];

    public static Command Create()
    {
        var nodes = new Option<int>("--nodes") { Description = "Members to run (1 to 5).", DefaultValueFactory = _ => 3 };
        var dataDirectory = new Option<string>("--data-dir") { Description = "Parent of the members' data directories (m1, m2, ...).", DefaultValueFactory = _ => "dev.parley" };
        var portOffset = new Option<int>("--port-offset") { Description = "Added to every port (to run beside etcd or another dev cluster).", DefaultValueFactory = _ => 0 };
        var command = new Command("dev", "Run a local cluster: members on 127.0.0.1, client ports 2379/22379/32379, peer ports 2380/22380/32380.");
        command.Options.Add(nodes);
        command.Options.Add(dataDirectory);
        command.Options.Add(portOffset);
        command.SetAction(parseResult => Run(parseResult.GetValue(nodes), parseResult.GetValue(dataDirectory)!, parseResult.GetValue(portOffset)));
        return command;
    }

    private static int Run(int count, string dataDirectory, int portOffset)
    {
        if (count is < 1 or > 5)
        {
            Console.Error.WriteLine("parley dev: --nodes must be between 1 and 5");
            return 2;
        }
        if (portOffset is < 0 or > 10_000)
        {
            Console.Error.WriteLine("parley dev: --port-offset must be between 0 and 10000");
            return 2;
        }
        var names = Enumerable.Range(1, count).Select(i => "m" + i.ToString(CultureInfo.InvariantCulture)).ToArray();
        var clientUrls = Enumerable.Range(0, count).Select(i => $"http://127.0.0.1:{ClientPorts[i] + portOffset}").ToArray();
        var peerUrls = Enumerable.Range(0, count).Select(i => $"http://127.0.0.1:{PeerPorts[i] + portOffset}").ToArray();
        var cluster = string.Join(",", names.Select((name, i) => $"{name}={peerUrls[i]}"));
        var endpoints = string.Join(",", clientUrls.Select(url => url["http://".Length..]));
        Console.WriteLine($"parley dev: {count} member(s), data in {Path.GetFullPath(dataDirectory)}");
        for (var i = 0; i < count; i++)
        {
            Console.WriteLine($"  {names[i]}  client {clientUrls[i]}  peer {peerUrls[i]}");
        }
        Console.WriteLine($"try:  ETCDCTL_API=3 etcdctl --endpoints={endpoints} put foo bar");
        Console.WriteLine($"      ETCDCTL_API=3 etcdctl --endpoints={endpoints} endpoint status -w table");
        Console.WriteLine("Ctrl-C stops every member.");
        var children = new List<Process>();
        var stop = new ManualResetEventSlim(false);
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Set();
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        try
        {
            for (var i = 0; i < count; i++)
            {
                children.Add(StartMember(names[i], Path.Combine(dataDirectory, names[i]), clientUrls[i], peerUrls[i], cluster));
            }
            var ready = ReportReadiness(names, clientUrls, stop);
            if (ready)
            {
                Console.WriteLine($"parley dev: cluster ready ({count} member(s) report a leader)");
            }
            while (!stop.Wait(TimeSpan.FromMilliseconds(500)))
            {
                if (children.All(child => child.HasExited))
                {
                    Console.Error.WriteLine("parley dev: every member exited");
                    return 1;
                }
            }
            Console.WriteLine("parley dev: stopping members");
            return 0;
        }
        finally
        {
            foreach (var child in children.Where(child => !child.HasExited))
            {
                Terminate(child);
            }
            foreach (var child in children)
            {
                if (!child.WaitForExit(TimeSpan.FromSeconds(10)))
                {
                    child.Kill();
                }
                child.Dispose();
            }
            Console.WriteLine("parley dev: all members stopped");
        }
    }

    private static Process StartMember(string name, string dataDirectory, string clientUrl, string peerUrl, string cluster)
    {
        var start = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        var host = Environment.ProcessPath!;
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            start.FileName = host;
            start.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        }
        else
        {
            start.FileName = host;
        }
        foreach (var argument in new[]
        {
            "serve", "--name", name, "--data-dir", dataDirectory,
            "--listen-client-urls", clientUrl, "--advertise-client-urls", clientUrl,
            "--listen-peer-urls", peerUrl, "--initial-advertise-peer-urls", peerUrl,
            "--initial-cluster", cluster, "--initial-cluster-state", "new", "--initial-cluster-token", "parley-dev",
        })
        {
            start.ArgumentList.Add(argument);
        }
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, line) => { if (line.Data is not null) Console.WriteLine($"[{name}] {line.Data}"); };
        process.ErrorDataReceived += (_, line) => { if (line.Data is not null) Console.Error.WriteLine($"[{name}] {line.Data}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Polls each member's /readyz (leader known) and prints each as it comes up; bounded to 30 s.</summary>
    private static bool ReportReadiness(string[] names, string[] clientUrls, ManualResetEventSlim stop)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        var up = new bool[names.Length];
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30) && !stop.IsSet)
        {
            for (var i = 0; i < names.Length; i++)
            {
                if (up[i])
                {
                    continue;
                }
                try
                {
                    using var response = http.GetAsync(new Uri(clientUrls[i] + "/readyz")).GetAwaiter().GetResult();
                    if (response.IsSuccessStatusCode)
                    {
                        up[i] = true;
                        Console.WriteLine($"parley dev: {names[i]} up at {clientUrls[i]}");
                    }
                }
                catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
                {
                    // not listening yet
                }
            }
            if (up.All(u => u))
            {
                return true;
            }
            stop.Wait(TimeSpan.FromMilliseconds(200));
        }
        return false;
    }

    /// <summary>SIGTERM through kill(1): .NET has no API to send a catchable signal to another process.</summary>
    private static void Terminate(Process child)
    {
        try
        {
            using var kill = Process.Start("kill", ["-TERM", child.Id.ToString(CultureInfo.InvariantCulture)]);
            kill.WaitForExit(TimeSpan.FromSeconds(5));
        }
        catch (System.ComponentModel.Win32Exception)
        {
            child.Kill();
        }
    }
}
