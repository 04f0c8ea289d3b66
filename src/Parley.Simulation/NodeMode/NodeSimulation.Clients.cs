using System.Text;
using Parley.Mvcc;
using Parley.Node;

namespace Parley.Simulation.NodeMode;

public sealed partial class NodeSimulation
{
    private void OnOperationEnded(bool timedOut)
    {
        _operationsCompleted++;
        if (timedOut)
        {
            _operationsTimedOut++;
        }
    }

    /// <summary>A member for a client request: any that was not stopped for good (it may be down).</summary>
    private SimMember PickClientEndpoint()
    {
        var member = _members[Random.Next(_members.Count)];
        while (member.IsRetired)
        {
            member = _members[(int)(member.Id % (ulong)_members.Count)];
        }
        return member;
    }

    /// <summary>
    /// An etcd client doing one request at a time against a member it picks at random: a put of a unique value, or a
    /// linearizable range of one key. It gives up after its deadline (a crashed member never answers); a write it gave
    /// up on may still apply. During the liveness phase it finishes what it is doing and stops.
    /// </summary>
    private sealed class NodeClient(NodeSimulation simulation, int id)
    {
        private long _operation;
        private int _sequence;

        public bool IsBusy { get; private set; }

        public void StartNext()
        {
            var sim = simulation;
            if (!sim._faultPhase)
            {
                IsBusy = false;
                return;
            }
            IsBusy = true;
            var operation = ++_operation;
            var member = sim.PickClientEndpoint();
            var key = "k" + sim.Random.Next(sim.Parameters.Keys).ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (member.Node is not { } node)
            {
                // Connection refused: try another member soon.
                sim.Events.After(5_000 + sim.Random.NextInt64(20_000), () => Continue(operation));
                return;
            }
            sim.Events.After(sim.Parameters.ClientTimeoutMicros, () =>
            {
                if (_operation == operation && IsBusy)
                {
                    sim.OnOperationEnded(timedOut: true);
                    Finish(operation);
                }
            });
            if (sim.Random.NextDouble() < sim.Parameters.ReadFraction)
            {
                var keyRevisionMin = sim.Checker.AckedRevision(key);
                var revisionMin = sim.Checker.AckedRevisionMax;
                node.SubmitRead(new RangeRequest { Key = Encoding.UTF8.GetBytes(key) }, result =>
                {
                    if (result.Error == NodeError.None && result.Range.IsSuccess)
                    {
                        sim.Checker.OnRead(key, keyRevisionMin, revisionMin, result.Range.Value!, member.Id);
                    }
                    Completed(operation, $"c{id} read {key} at n{member.Id}: {Describe(result)}");
                });
            }
            else
            {
                var value = NewValue();
                sim.Checker.OnWriteSubmitted(key, value);
                var request = new PutRequest { Key = Encoding.UTF8.GetBytes(key), Value = Encoding.UTF8.GetBytes(value) };
                node.SubmitWrite(WriteCommand.Put(request), result =>
                {
                    if (result.Error == NodeError.None && result.Outcome is { IsSuccess: true, Response: PutResponse put })
                    {
                        sim.Checker.OnWriteAcknowledged(key, value, put.Header.Revision, member.Id);
                    }
                    Completed(operation, $"c{id} put {key}={NodeChecker.Printable(value)} at n{member.Id}: {Describe(result)}");
                });
            }
            sim.ScheduleTurn(member);
        }

        private void Completed(long operation, string description)
        {
            simulation.Trace.Add(description);
            if (_operation == operation && IsBusy)
            {
                simulation.OnOperationEnded(timedOut: false);
                Finish(operation);
            }
        }

        private void Finish(long operation)
        {
            IsBusy = false;
            var think = simulation.Random.NextInt64(2_000);
            simulation.Events.After(think, () => Continue(operation));
        }

        private void Continue(long operation)
        {
            if (_operation == operation)
            {
                StartNext();
            }
        }

        private string NewValue()
        {
            var builder = new StringBuilder();
            builder.Append('c').Append(id).Append('.').Append(++_sequence).Append('.');
            var padding = simulation.Random.Next(simulation.Parameters.ValueBytesMax);
            for (var i = 0; i < padding; i++)
            {
                builder.Append((char)('a' + simulation.Random.Next(26)));
            }
            return builder.ToString();
        }

        private static string Describe(WriteResult result) =>
            result.Error != NodeError.None ? NodeErrors.Message(result.Error) :
            result.Outcome is { IsSuccess: true, Response: PutResponse put } ? $"ok rev={put.Header.Revision}" : $"mvcc {result.Outcome?.ErrorMessage}";

        private static string Describe(ReadResult result) =>
            result.Error != NodeError.None ? NodeErrors.Message(result.Error) :
            !result.Range.IsSuccess ? $"mvcc {result.Range.ErrorMessage}" :
            result.Range.Value!.Kvs.Count == 0 ? $"absent at rev={result.Range.Value.Header.Revision}" :
            $"mod={result.Range.Value.Kvs[0].ModRevision} at rev={result.Range.Value.Header.Revision}";
    }
}
