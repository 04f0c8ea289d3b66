using Parley.Checker.Formats;
using Parley.Checker.Models.Register;
using Parley.Checker.Search;

namespace Parley.Checker.Tests;

/// <summary>Claims about the three input formats: what they mean, and that bad input names its line.</summary>
public sealed class FormatTests
{
    private static readonly CheckOptions Options = new();

    [Fact]
    public void JepsenParser_LeavesInfoOperationsOpenUntilTheEnd()
    {
        const string log = """
            INFO  jepsen.util - 1	:invoke	:write	3
            INFO  jepsen.util - 1	:info	:write	:timed-out
            INFO  jepsen.util - 2	:invoke	:read	nil
            INFO  jepsen.util - 2	:ok	:read	3
            """;

        var history = JepsenRegisterParser.Parse(new StringReader(log), "log");

        var write = Assert.Single(history, operation => operation.Input.Kind == RegisterOperationKind.Write);
        Assert.False(write.HasReturned);
        Assert.True(write.Output.IsUnknown);
    }

    [Fact]
    public void JepsenParser_TreatsFailedCompareAndSetAsDefiniteFailure()
    {
        const string valid = """
            INFO  jepsen.util - 1	:invoke	:cas	[0 1]
            INFO  jepsen.util - 1	:fail	:cas	[0 1]
            """;
        var operation = Assert.Single(JepsenRegisterParser.Parse(new StringReader(valid), "log"));
        Assert.Equal(RegisterOutput.CompareAndSetResult(false), operation.Output);
    }

    [Theory]
    [InlineData("INFO  jepsen.util - 1\t:invoke\t:read\tnil\nINFO  jepsen.util - 1\t:ok\t:frobnicate\t3\n", 2)]
    [InlineData("INFO  jepsen.util - 1\t:ok\t:read\t3\n", 1)]
    [InlineData("INFO  jepsen.util - 1\t:invoke\t:cas\t[nil 1]\n", 1)]
    [InlineData("INFO  jepsen.util - 1\t:invoke\t:read\tnil\n\nINFO  jepsen.util - 1\t:invoke\t:read\tnil\n", 3)]
    public void JepsenParser_NamesTheLine_OfMalformedInput(string log, int line)
    {
        var exception = Assert.Throws<HistoryParseException>(() => JepsenRegisterParser.Parse(new StringReader(log), "log"));

        Assert.Equal(line, exception.Line);
        Assert.StartsWith($"log:{line}: ", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{:process 0, :type :invoke, :f :get, :key \"1\", :value nil}\n{:process 0, :type :ok, :f :get, :key \"1\" :value \"x\"\n", 2)]
    [InlineData("{:process 0, :type :invoke, :f :scan, :key \"1\", :value nil}\n", 1)]
    [InlineData("{:process 0, :type :invoke, :f :get, :value nil}\n", 1)]
    public void EdnParser_NamesTheLine_OfMalformedInput(string text, int line)
    {
        var exception = Assert.Throws<HistoryParseException>(() => KeyValueEdnParser.Parse(new StringReader(text), "kv"));

        Assert.Equal(line, exception.Line);
    }

    [Fact]
    public void ParleyFormat_SampleHistory_IsLinearizable()
    {
        var result = HistoryFileChecker.Check(TestData.Sample("etcd-linearizable.jsonl"), HistoryFormat.Parley, Options);

        Assert.Equal(Verdict.Linearizable, result.Verdict);
        // The "fail" line is dropped; the other eight remain.
        Assert.Equal(8, result.Partitions.Single().Operations.Count);
    }

    [Fact]
    public void ParleyFormat_StaleReadSample_IsNotLinearizable()
    {
        var result = HistoryFileChecker.Check(TestData.Sample("etcd-stale-read.jsonl"), HistoryFormat.Parley, Options);

        Assert.Equal(Verdict.NotLinearizable, result.Verdict);
        Assert.Equal(3, result.SmallestViolation!.Operations[result.SmallestViolation.BlockingOperation].SourceLine);
    }

    [Theory]
    [InlineData("""{"client":1,"op":"put","key":"a","value":"1","call":5,"return":3}""", "before")]
    [InlineData("""{"client":1,"op":"put","key":"a","value":"1","call":5,"return":9,"revison":2}""", "unknown field")]
    [InlineData("""{"client":1,"op":"get","key":"a","call":5,"return":9}""", "missing \"value\"")]
    [InlineData("""{"client":1,"op":"scan","key":"a","call":5,"return":9}""", "\"op\"")]
    [InlineData("""{"client":1,"op":"put","key":"a","value":"1","call":5,"return":9,"outcome":"maybe"}""", "outcome")]
    [InlineData("""{"client":1,"op":"put","key":"a","value":"1","call":5,"outcome":"ok"}""", "return")]
    [InlineData("""{"client":"one","op":"put","key":"a","value":"1","call":5,"return":9}""", "type")]
    [InlineData("""{"client":1,"op":"put",""", "JSON")]
    public void ParleyFormat_RejectsMalformedLine_NamingItAndWhy(string line, string reasonFragment)
    {
        var text = """{"client":9,"op":"get","key":"a","call":1,"return":2,"value":null}""" + "\n" + line + "\n";

        var exception = Assert.Throws<HistoryParseException>(() => ParleyHistoryParser.Parse(new StringReader(text), "history.jsonl"));

        Assert.Equal(2, exception.Line);
        Assert.Contains(reasonFragment, exception.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ParleyFormat_RejectsClientThatOverlapsItsOwnRequests()
    {
        const string text = """
            {"client":1,"op":"put","key":"a","value":"1","call":0,"return":10}
            {"client":1,"op":"put","key":"a","value":"2","call":5,"return":15}
            """;

        var exception = Assert.Throws<HistoryParseException>(() => ParleyHistoryParser.Parse(new StringReader(text), "history.jsonl"));

        Assert.Equal(2, exception.Line);
    }

    [Fact]
    public void ParleyFormat_TreatsMissingReturnAsUnknownOutcome()
    {
        const string text = """{"client":1,"op":"put","key":"a","value":"1","call":0}""";

        var operation = Assert.Single(ParleyHistoryParser.Parse(new StringReader(text), "history.jsonl"));

        Assert.True(operation.Output.IsUnknown);
        Assert.False(operation.HasReturned);
    }
}
