using System.Globalization;
using Parley.Checker.Formats;
using Parley.Checker.Models.KeyValue;
using Parley.Checker.Models.Register;
using Parley.Checker.Search;

namespace Parley.Checker.Tests;

/// <summary>
/// The 108 verdicts porcupine's own tests assert on its public data (see TestData/porcupine/README.md):
/// 23 + 3 linearizable, 79 + 3 not. etcd_095.log is empty and untested upstream.
/// </summary>
public sealed class PorcupineVerdictTests
{
    private static readonly int[] LinearizableJepsenLogs =
        [2, 5, 7, 18, 25, 31, 38, 45, 48, 49, 51, 53, 56, 67, 75, 76, 80, 87, 92, 98, 100, 101, 102];

    private static readonly CheckOptions Options = new() { Timeout = TimeSpan.FromSeconds(60) };

    public static TheoryData<int, Verdict> JepsenLogs()
    {
        var data = new TheoryData<int, Verdict>();
        for (var log = 0; log <= 102; log++)
        {
            if (log == 95)
            {
                continue;
            }

            data.Add(log, LinearizableJepsenLogs.Contains(log) ? Verdict.Linearizable : Verdict.NotLinearizable);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(JepsenLogs))]
    public void Checker_ReproducesPorcupineVerdict_OnJepsenEtcdRegisterLog(int log, Verdict expected)
    {
        var path = TestData.Porcupine($"jepsen/etcd_{log.ToString("D3", CultureInfo.InvariantCulture)}.log");
        using var reader = File.OpenText(path);
        var history = JepsenRegisterParser.Parse(reader, path);

        var result = LinearizabilityChecker.Check(RegisterModel.Instance, history, Options);

        Assert.Equal(expected, result.Verdict);
    }

    [Theory]
    [InlineData("c01-ok.txt", Verdict.Linearizable)]
    [InlineData("c01-bad.txt", Verdict.NotLinearizable)]
    [InlineData("c10-ok.txt", Verdict.Linearizable)]
    [InlineData("c10-bad.txt", Verdict.NotLinearizable)]
    [InlineData("c50-ok.txt", Verdict.Linearizable)]
    [InlineData("c50-bad.txt", Verdict.NotLinearizable)]
    public void Checker_ReproducesPorcupineVerdict_OnKeyValueHistoryPartitionedByKey(string file, Verdict expected)
    {
        var path = TestData.Porcupine("kv/" + file);
        using var reader = File.OpenText(path);
        var history = KeyValueEdnParser.Parse(reader, path);

        var result = LinearizabilityChecker.Check(KeyValueModel.Instance, history, Options);

        Assert.Equal(expected, result.Verdict);
    }
}
