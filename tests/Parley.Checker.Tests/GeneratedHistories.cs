using System.Globalization;
using Parley.Checker.Models.Etcd;
using Parley.Checker.Models.KeyValue;
using Parley.Checker.Models.Register;
using Parley.Checker.Search;

namespace Parley.Checker.Tests;

/// <summary>
/// Histories produced by running a sequential model at increasing linearization points, with random
/// overlapping call/return intervals around them (so they are linearizable by construction). Every
/// written value is unique, which lets tests corrupt one read into a value no ordering allows.
/// </summary>
internal static class GeneratedHistories
{
    public static List<Operation<RegisterInput, RegisterOutput>> Register(int seed, int operationCount, int clientCount, long spreadMax)
    {
        var random = new Random(seed);
        var scheduler = new IntervalScheduler(random, clientCount, spreadMax);
        var model = RegisterModel.Instance;
        var state = model.InitialState;
        var written = new List<string> { "0" };
        var history = new List<Operation<RegisterInput, RegisterOutput>>();
        for (var index = 0; index < operationCount; index++)
        {
            var interval = scheduler.Next();
            var value = Unique(index);
            var roll = random.Next(10);
            var input = roll < 4 ? RegisterInput.Read()
                : roll < 8 ? RegisterInput.Write(value)
                : RegisterInput.CompareAndSet(random.Next(2) == 0 ? state : written[random.Next(written.Count)], value);
            var output = input.Kind switch
            {
                RegisterOperationKind.Read => RegisterOutput.ReadValue(state),
                RegisterOperationKind.Write => RegisterOutput.Written,
                _ => RegisterOutput.CompareAndSetResult(string.Equals(input.ExpectedValue, state, StringComparison.Ordinal)),
            };
            Assert.True(model.TryStep(state, input, output, out state));
            if (input.Kind != RegisterOperationKind.Read)
            {
                written.Add(value);
            }

            history.Add(new(interval.ClientId, input, output, interval.CallTimestamp, interval.ReturnTimestamp));
        }

        return history;
    }

    public static List<Operation<KeyValueInput, KeyValueOutput>> KeyValue(int seed, int operationCount, int clientCount, int keyCount, long spreadMax)
    {
        var random = new Random(seed);
        var scheduler = new IntervalScheduler(random, clientCount, spreadMax);
        var model = KeyValueModel.Instance;
        var states = new Dictionary<string, string>(StringComparer.Ordinal);
        var history = new List<Operation<KeyValueInput, KeyValueOutput>>();
        for (var index = 0; index < operationCount; index++)
        {
            var interval = scheduler.Next();
            var key = random.Next(keyCount).ToString(CultureInfo.InvariantCulture);
            var state = states.GetValueOrDefault(key, model.InitialState);
            var roll = random.Next(10);
            var kind = roll < 4 ? KeyValueOperationKind.Get : roll < 6 ? KeyValueOperationKind.Put : KeyValueOperationKind.Append;
            var input = new KeyValueInput(kind, key, kind == KeyValueOperationKind.Get ? string.Empty : $"[{Unique(index)}]");
            var output = KeyValueOutput.Completed(kind == KeyValueOperationKind.Get ? state : string.Empty);
            Assert.True(model.TryStep(state, input, output, out var next));
            states[key] = next;
            history.Add(new(interval.ClientId, input, output, interval.CallTimestamp, interval.ReturnTimestamp));
        }

        return history;
    }

    /// <summary>etcd operations with revisions; about one write in ten has an unknown outcome and is randomly applied or not.</summary>
    public static List<Operation<EtcdRequest, EtcdResponse>> Etcd(int seed, int operationCount, int clientCount, int keyCount, long spreadMax)
    {
        var random = new Random(seed);
        var scheduler = new IntervalScheduler(random, clientCount, spreadMax);
        var model = EtcdModel.Instance;
        var state = model.InitialState;
        var history = new List<Operation<EtcdRequest, EtcdResponse>>();
        var next = new List<EtcdState>();
        for (var index = 0; index < operationCount; index++)
        {
            var interval = scheduler.Next();
            var key = "k" + random.Next(keyCount).ToString(CultureInfo.InvariantCulture);
            var roll = random.Next(10);
            var exists = state.Keys.TryGetValue(key, out var entry);
            var modRevision = exists ? entry.ModRevision : 0;
            var request = roll < 4 ? EtcdRequest.Get(key)
                : roll < 7 ? EtcdRequest.Put(key, Unique(index))
                : roll < 8 ? EtcdRequest.Delete(key)
                : EtcdRequest.CompareAndSet(key, random.Next(3) == 0 ? Math.Max(0, modRevision - 1) : modRevision, Unique(index));

            if (request.Kind != EtcdRequestKind.Get && random.Next(10) == 0)
            {
                // Indeterminate: the client gave up; the write happened at its point or never.
                if (random.Next(2) == 0)
                {
                    state = ApplyKnown(model, state, request);
                }

                history.Add(new(interval.ClientId, request, EtcdResponse.Unknown, interval.CallTimestamp, Operation<EtcdRequest, EtcdResponse>.NeverReturned));
                scheduler.RetireClient(interval.ClientId);
                continue;
            }

            var before = state;
            state = ApplyKnown(model, state, request);
            var response = request.Kind switch
            {
                EtcdRequestKind.Get => new EtcdResponse(false, state.Revision, exists ? entry.Value : null, ModRevision: modRevision),
                EtcdRequestKind.Delete => new EtcdResponse(false, state.Revision, Deleted: before.Keys.ContainsKey(key) ? 1 : 0),
                EtcdRequestKind.Txn => new EtcdResponse(false, state.Revision, Succeeded: state.Revision != before.Revision),
                _ => new EtcdResponse(false, state.Revision),
            };
            next.Clear();
            model.Step(before, request, response, next);
            Assert.Single(next);
            history.Add(new(interval.ClientId, request, response, interval.CallTimestamp, interval.ReturnTimestamp));
        }

        return history;
    }

    public static string Unique(int index) => "v" + index.ToString(CultureInfo.InvariantCulture);

    // The state a request leads to if it takes effect: the model's unknown-outcome step offers
    // "not applied" first and "applied" second (when it changes anything).
    private static EtcdState ApplyKnown(EtcdModel model, EtcdState state, EtcdRequest request)
    {
        var outcomes = new List<EtcdState>();
        model.Step(state, request, EtcdResponse.Unknown, outcomes);
        return outcomes[^1];
    }
}
