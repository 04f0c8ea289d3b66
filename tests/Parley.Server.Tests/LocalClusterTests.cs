namespace Parley.Server.Tests;

/// <summary>The test cluster's own failure path: what CI shows when a cluster does not come up.</summary>
public class LocalClusterTests
{
    [Fact]
    public void MemberThatCannotStart_FailsTheClusterAtOnce_WithEveryMembersState_AndLeavesNoMemberRunning()
    {
        string? root = null;
        var failure = Assert.Throws<LocalCluster.StartFailedException>(() => new LocalCluster(2, cluster =>
        {
            root = Path.GetDirectoryName(cluster.DataDirectory(0));
            File.WriteAllText(cluster.DataDirectory(1), "a file where m2's data directory should be");
        }));
        // not the 60 s timeout: m2's exit ends the wait
        Assert.StartsWith("m2 exited before every member was ready", failure.Message, StringComparison.Ordinal);
        Assert.Contains("--- m2 (exited with code 1)", failure.Message, StringComparison.Ordinal);
        Assert.Contains($"parley serve: cannot use the data directory {Path.Combine(root!, "m2")}", failure.Message, StringComparison.Ordinal);
        Assert.Contains("--- m1 (running", failure.Message, StringComparison.Ordinal);
        Assert.Empty(ProcessesNaming(root!));
    }

    /// <summary>Ids of live processes whose command line mentions <paramref name="text"/> (Linux).</summary>
    private static List<int> ProcessesNaming(string text)
    {
        var found = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var id))
            {
                continue;
            }
            try
            {
                if (File.ReadAllText(Path.Combine(directory, "cmdline")).Contains(text, StringComparison.Ordinal))
                {
                    found.Add(id);
                }
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // the process ended while we looked
            }
        }
        return found;
    }
}
