using Grpc.Core;
using EtcdPb = Etcdserverpb;

namespace Parley.Server.Tests;

/// <summary>
/// The count of unary calls in flight, which decides whether an answer is sent at once or batched (ClientOutput):
/// it returns to zero after answers and failures, on both call paths (a count left above one would keep a lone client's
/// answers waiting for a pool thread).
/// </summary>
public class UnaryCallsInFlightTests
{
    [Theory]
    [InlineData(true, true)]
    [InlineData(false, true)]
    [InlineData(true, false)] // answers through Kestrel's own transport: the same calls, the same answers
    public async Task TheCount_ReturnsToZero_AfterAnswersAndFailures(bool directUnaryCalls, bool pumpClientOutput)
    {
        await using var member = await InProcessMember.StartAsync(directUnaryCalls: directUnaryCalls, pumpClientOutput: pumpClientOutput);
        var metrics = member.Server.Metrics;
        Assert.Equal(0, metrics.UnaryCallsInFlight);

        var puts = Enumerable.Range(0, 64).Select(i => member.PutAsync($"k{i}", "v")).ToArray();
        var revisions = await Task.WhenAll(puts);
        var failure = await Assert.ThrowsAsync<RpcException>(async () =>
            await member.Kv.CompactAsync(new EtcdPb.CompactionRequest { Revision = 1_000_000 }, InProcessMember.Deadline()));
        Assert.Equal(StatusCode.OutOfRange, failure.StatusCode);
        var range = await member.Kv.RangeAsync(new EtcdPb.RangeRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("k"), RangeEnd = Google.Protobuf.ByteString.CopyFromUtf8("l") }, InProcessMember.Deadline());
        Assert.Equal(64, range.Count);
        Assert.Equal(revisions.Max(), range.Header.Revision);

        // Each call left the count before its answer was written, so with every answer in, nothing is in flight.
        Assert.Equal(0, metrics.UnaryCallsInFlight);
    }
}
