using BenchmarkDotNet.Attributes;
using Etcdserverpb;
using Google.Protobuf;
using Mvccpb;

namespace Parley.Benchmarks;

/// <summary>
/// Protobuf encoding and decoding of the etcd v3 messages on a member's hot paths, as the server does them
/// (DirectUnaryCalls: parse from the request's bytes, size, then write into a span): a put's request and response, a
/// compare-and-swap Txn's request, a 100-key range's response, and a watch response carrying 64 put events.
/// 16 B keys and 256 B values, as in bench compare.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class EtcdMessageBenchmarks
{
    private const int KeyBytes = 16;
    private const int ValueBytes = 256;

    private readonly byte[] _output = new byte[1 << 20];
    private byte[] _putRequest = [];
    private byte[] _txnRequest = [];
    private byte[] _rangeResponseBytes = [];
    private PutResponse _putResponse = new();
    private RangeResponse _rangeResponse = new();
    private WatchResponse _watchResponse = new();

    [GlobalSetup]
    public void Build()
    {
        var random = new Random(MvccWorkload.Seed);
        ByteString Bytes(int count)
        {
            var bytes = new byte[count];
            random.NextBytes(bytes);
            return ByteString.CopyFrom(bytes);
        }
        var header = new ResponseHeader { ClusterId = 0x1234_5678_9ABC_DEF0, MemberId = 0x0FED_CBA9_8765_4321, Revision = 1_234_567, RaftTerm = 7 };
        KeyValue KeyValue(long revision) => new()
        {
            Key = Bytes(KeyBytes),
            Value = Bytes(ValueBytes),
            CreateRevision = revision,
            ModRevision = revision,
            Version = 1,
        };
        _putRequest = new PutRequest { Key = Bytes(KeyBytes), Value = Bytes(ValueBytes) }.ToByteArray();
        var key = Bytes(KeyBytes);
        _txnRequest = new TxnRequest
        {
            Compare = { new Compare { Key = key, Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = 1_000 } },
            Success = { new RequestOp { RequestPut = new PutRequest { Key = key, Value = Bytes(ValueBytes) } } },
            Failure = { new RequestOp { RequestRange = new RangeRequest { Key = key } } },
        }.ToByteArray();
        _putResponse = new PutResponse { Header = header };
        _rangeResponse = new RangeResponse { Header = header, Count = 100 };
        for (var i = 0; i < 100; i++)
        {
            _rangeResponse.Kvs.Add(KeyValue(1_000 + i));
        }
        _rangeResponseBytes = _rangeResponse.ToByteArray();
        _watchResponse = new WatchResponse { Header = header, WatchId = 3 };
        for (var i = 0; i < 64; i++)
        {
            _watchResponse.Events.Add(new Event { Type = Event.Types.EventType.Put, Kv = KeyValue(2_000 + i) });
        }
    }

    [Benchmark]
    public int ParsePutRequest() => PutRequest.Parser.ParseFrom(_putRequest).Value.Length;

    [Benchmark]
    public int WritePutResponse() => Write(_putResponse);

    [Benchmark]
    public int ParseTxnCompareAndSwap() => TxnRequest.Parser.ParseFrom(_txnRequest).Success.Count;

    [Benchmark]
    public int WriteRangeResponseOf100() => Write(_rangeResponse);

    [Benchmark]
    public int ParseRangeResponseOf100() => RangeResponse.Parser.ParseFrom(_rangeResponseBytes).Kvs.Count;

    [Benchmark]
    public int WriteWatchResponseOf64Events() => Write(_watchResponse);

    private int Write(IMessage message)
    {
        var size = message.CalculateSize();
        message.WriteTo(_output.AsSpan(0, size));
        return size;
    }
}
