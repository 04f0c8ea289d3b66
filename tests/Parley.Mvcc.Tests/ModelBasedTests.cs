using static Parley.Mvcc.Tests.Kit;

namespace Parley.Mvcc.Tests;

/// <summary>
/// Random operation sequences applied to the store and to <see cref="ReferenceModel"/>; every
/// response, range, event replay and snapshot round trip must agree. Seeds are fixed, so a failure
/// names its seed and replays exactly.
/// </summary>
public class ModelBasedTests
{
    private const int SequenceCount = 2000;
    private const int OperationsPerSequence = 60;

    [Fact]
    public void RandomSequences_AgreeWithReferenceModel()
    {
        for (int seed = 1; seed <= SequenceCount; seed++)
        {
            try
            {
                RunSequence(seed);
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                throw new InvalidOperationException($"SEED={seed}: {exception.Message}", exception);
            }
        }
    }

    private static void RunSequence(int seed)
    {
        var random = new Random(seed);
        var store = new MvccStore();
        var model = new ReferenceModel();
        for (int step = 0; step < OperationsPerSequence; step++)
        {
            int choice = random.Next(100);
            if (choice < 40)
            {
                StepPut(random, store, model);
            }
            else if (choice < 55)
            {
                StepDelete(random, store, model);
            }
            else if (choice < 70)
            {
                StepTxn(random, store, model);
            }
            else if (choice < 75)
            {
                StepCompact(random, store, model);
            }
            else
            {
                CheckRange(random, store, model);
            }
            Assert.Equal(model.Revision, store.Revision);
        }
        CheckEvents(random, store, model);
        CheckSnapshotRoundTrip(store);
    }

    private static string RandomKey(Random random) => "k" + random.Next(10);

    private static string RandomEnd(Random random, string key) => random.Next(3) switch
    {
        0 => "",
        1 => "\0",
        _ => "k" + random.Next(11),
    };

    private static void StepPut(Random random, MvccStore store, ReferenceModel model)
    {
        string key = RandomKey(random);
        string value = "v" + random.Next(5);
        PutResponse response = store.Put(key, value, prevKv: true);
        bool changed = false;
        ModelVersion? previous = model.Put(key, value, ref changed);
        model.FinishWrite(changed);
        Assert.Equal(model.Revision, response.Header.Revision);
        Assert.Equal(previous?.Value, response.PrevKv is null ? null : S(response.PrevKv.Value));
    }

    private static void StepDelete(Random random, MvccStore store, ReferenceModel model)
    {
        string key = RandomKey(random);
        string end = RandomEnd(random, key);
        DeleteRangeResponse response = Ok(store.DeleteRange(new DeleteRangeRequest { Key = B(key), RangeEnd = B(end) }));
        bool changed = false;
        int deleted = model.Delete(key, end, ref changed);
        model.FinishWrite(changed);
        Assert.Equal(deleted, response.Deleted);
        Assert.Equal(model.Revision, response.Header.Revision);
    }

    private static void StepTxn(Random random, MvccStore store, ReferenceModel model)
    {
        string compareKey = RandomKey(random);
        string compareValue = "v" + random.Next(5);
        string putKey = RandomKey(random);
        string putValue = "v" + random.Next(5);
        string deleteKey = RandomKey(random);
        var request = new TxnRequest
        {
            Compare = [ValueIs(compareKey, compareValue)],
            Success = [PutOp(putKey, putValue), GetOp(putKey)],
            Failure = [DeleteOp(deleteKey), GetOp(deleteKey)],
        };
        TxnResponse response = Ok(store.Txn(request));
        bool succeeded = model.Visible(compareKey, model.Revision)?.Value == compareValue;
        Assert.Equal(succeeded, response.Succeeded);
        bool changed = false;
        if (succeeded)
        {
            model.Put(putKey, putValue, ref changed);
            Assert.Equal(putValue, S(response.Responses[1].ResponseRange!.Kvs[0].Value));
        }
        else
        {
            model.Delete(deleteKey, "", ref changed);
            Assert.Empty(response.Responses[1].ResponseRange!.Kvs);
        }
        model.FinishWrite(changed);
        Assert.Equal(model.Revision, response.Header.Revision);
    }

    private static void StepCompact(Random random, MvccStore store, ReferenceModel model)
    {
        long revision = model.Revision - random.Next(-1, 6);
        MvccResult<CompactionResponse> result = store.Compact(new CompactionRequest { Revision = revision });
        string? expected = model.Compact(revision);
        Assert.Equal(expected ?? "", result.ErrorMessage);
    }

    private static void CheckRange(Random random, MvccStore store, ReferenceModel model)
    {
        string key = RandomKey(random);
        string end = RandomEnd(random, key);
        long revision = random.Next(3) == 0 ? 0 : model.Revision - random.Next(-1, 8);
        long limit = random.Next(4);
        MvccResult<RangeResponse> result = store.Range(new RangeRequest { Key = B(key), RangeEnd = B(end), Revision = revision, Limit = limit });
        long readRevision = revision <= 0 ? model.Revision : revision;
        if (revision > model.Revision)
        {
            Assert.Equal(MvccErrors.FutureRevisionMessage, result.ErrorMessage);
            return;
        }
        if (readRevision < model.CompactRevision)
        {
            Assert.Equal(MvccErrors.CompactedMessage, result.ErrorMessage);
            return;
        }
        RangeResponse response = Ok(result);
        var expected = new List<(string Key, ModelVersion Version)>();
        foreach (string candidate in model.KeysIn(key, end))
        {
            if (model.Visible(candidate, readRevision) is { } version)
            {
                expected.Add((candidate, version));
            }
        }
        Assert.Equal(expected.Count, response.Count);
        int shown = limit > 0 ? (int)Math.Min(limit, expected.Count) : expected.Count;
        Assert.Equal(shown, response.Kvs.Count);
        Assert.Equal(limit > 0 && expected.Count > limit, response.More);
        for (int index = 0; index < shown; index++)
        {
            KeyValue kv = response.Kvs[index];
            (string expectedKey, ModelVersion version) = expected[index];
            Assert.Equal(expectedKey, S(kv.Key));
            Assert.Equal(version.Value, S(kv.Value));
            Assert.Equal(version.Mod, kv.ModRevision);
            Assert.Equal(version.Create, kv.CreateRevision);
            Assert.Equal(version.Version, kv.Version);
        }
        Assert.Equal(model.Revision, response.Header.Revision);
    }

    private static void CheckEvents(Random random, MvccStore store, ReferenceModel model)
    {
        long start = Math.Max(model.CompactRevision + 1, 2) + random.Next(3);
        List<MvccEvent> events = store.Events(start, prevKv: true);
        List<ModelEvent> expected = model.Events.Where(e => e.Revision >= start).ToList();
        Assert.Equal(expected.Count, events.Count);
        for (int index = 0; index < expected.Count; index++)
        {
            ModelEvent modelEvent = expected[index];
            MvccEvent actual = events[index];
            Assert.Equal(modelEvent.Key, S(actual.Kv.Key));
            Assert.Equal(modelEvent.Revision, actual.Kv.ModRevision);
            Assert.Equal(modelEvent.IsDelete ? EventType.Delete : EventType.Put, actual.Type);
            bool created = !modelEvent.IsDelete && actual.Kv.CreateRevision == actual.Kv.ModRevision;
            ModelVersion? previous = created || modelEvent.Revision - 1 < model.CompactRevision ? null : model.Visible(modelEvent.Key, modelEvent.Revision - 1);
            Assert.Equal(previous?.Value, actual.PrevKv is null ? null : S(actual.PrevKv.Value));
        }
    }

    private static void CheckSnapshotRoundTrip(MvccStore store)
    {
        byte[] bytes = store.Snapshot();
        MvccStore restored = Ok(MvccStore.Restore(bytes));
        Assert.Equal(bytes, restored.Snapshot());
        Assert.Equal(Ok(store.HashKV(0)).Hash, Ok(restored.HashKV(0)).Hash);
        Assert.Equal(store.EstimatedStoredBytes, restored.EstimatedStoredBytes);
    }
}
