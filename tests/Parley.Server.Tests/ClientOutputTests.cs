using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;

namespace Parley.Server.Tests;

/// <summary>
/// <see cref="ClientOutput"/> between a writer (Kestrel's side) and a real loopback socket: order, completion, large
/// writes against a slow reader, a client that went away; and where its pumps run.
/// </summary>
public class ClientOutputTests
{
    [Fact]
    public async Task Writes_ArriveInOrder_AndTheWritersEndCompletesTheTransportAfterTheLastByte()
    {
        using var sockets = await SocketPair.OpenAsync();
        var transport = new Pipe();
        var writer = ClientOutput.Start(sockets.Server, transport.Writer, ClientOutput.Scheduler(() => false));
        var sent = new List<byte>();
        for (var i = 0; i < 50; i++)
        {
            var chunk = Enumerable.Range(0, 1 + i * 37).Select(b => (byte)(b + i)).ToArray();
            await writer.WriteAsync(chunk);
            sent.AddRange(chunk);
        }
        await writer.CompleteAsync();

        Assert.Equal(sent, await sockets.ReadClientAsync(sent.Count));
        var end = await transport.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(end.IsCompleted, "the transport's output is completed once the writer is");
        Assert.True(end.Buffer.IsEmpty, "nothing goes through the transport's own output");
    }

    [Fact]
    public async Task NotBusy_ThePumpRunsOnTheThreadThatFlushes()
    {
        using var sockets = await SocketPair.OpenAsync();
        var scheduler = new RecordingScheduler(ClientOutput.Scheduler(() => false));
        var writer = ClientOutput.Start(sockets.Server, new Pipe().Writer, scheduler);
        for (var i = 0; i < 20; i++)
        {
            writer.Write(new byte[] { (byte)i, 1, 2, 3 });
            var flushing = Environment.CurrentManagedThreadId;
            var flush = writer.FlushAsync();
            Assert.True(flush.IsCompletedSuccessfully, "nothing to wait for");
            Assert.Equal(flushing, scheduler.LastThread); // the answer left from the thread that wrote it
            Assert.Equal([(byte)i, 1, 2, 3], await sockets.ReadClientAsync(4));
        }
        await writer.CompleteAsync();
    }

    [Fact]
    public async Task AWriteFarLargerThanTheSocketsBuffers_ArrivesWhole_WhileTheClientReadsSlowly()
    {
        using var sockets = await SocketPair.OpenAsync();
        sockets.Server.SendBufferSize = 16 * 1024;
        sockets.Client.ReceiveBufferSize = 16 * 1024;
        var writer = ClientOutput.Start(sockets.Server, new Pipe().Writer, ClientOutput.Scheduler(() => true));
        var data = new byte[4 * 1024 * 1024];
        new Random(7).NextBytes(data);
        var writing = Task.Run(async () =>
        {
            // Many segments per flush (the pipe's are 4 KiB): the pump sends them gathered.
            for (var offset = 0; offset < data.Length; offset += 100_000)
            {
                var length = Math.Min(100_000, data.Length - offset);
                var memory = writer.GetMemory(length);
                data.AsMemory(offset, length).CopyTo(memory);
                writer.Advance(length);
                var flushed = await writer.FlushAsync();
                Assert.False(flushed.IsCompleted);
            }
            await writer.CompleteAsync();
        });
        var received = await sockets.ReadClientAsync(data.Length, slowly: true);
        await writing.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(data, received);
    }

    [Fact]
    public async Task AClientThatWentAway_EndsTheOutput_AndTheTransportLearnsWhy()
    {
        using var sockets = await SocketPair.OpenAsync();
        var transport = new Pipe();
        var writer = ClientOutput.Start(sockets.Server, transport.Writer, ClientOutput.Scheduler(() => false));
        sockets.Client.LingerState = new LingerOption(true, 0); // closes with a reset: the next sends fail
        sockets.Client.Close();
        var ended = false;
        for (var i = 0; i < 200 && !ended; i++)
        {
            try
            {
                ended = (await writer.WriteAsync(new byte[1024])).IsCompleted;
            }
            catch (Exception exception) when (exception is IOException or SocketException or InvalidOperationException)
            {
                ended = true;
            }
            await Task.Delay(5);
        }
        Assert.True(ended, "the writer learns that its output ended");
        await Assert.ThrowsAsync<SocketException>(async () => await transport.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void TheScheduler_RunsAtOnceWhenNotBusy_ElseQueuesAndRunsWhatWasQueuedInOneWorkItem()
    {
        var busy = false;
        var scheduler = ClientOutput.Scheduler(() => busy);
        var caller = Environment.CurrentManagedThreadId;
        int? ranOn = null;
        scheduler.Schedule(_ => ranOn = Environment.CurrentManagedThreadId, null);
        Assert.Equal(caller, ranOn);

        busy = true;
        using var firstRunning = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        using var allDone = new CountdownEvent(3);
        var threads = new int[3];
        scheduler.Schedule(_ =>
        {
            threads[0] = Environment.CurrentManagedThreadId;
            firstRunning.Set();
            release.Wait(TimeSpan.FromSeconds(10));
            allDone.Signal();
        }, null);
        Assert.True(firstRunning.Wait(TimeSpan.FromSeconds(10)), "a queued pump runs on the thread pool");
        for (var i = 1; i < 3; i++)
        {
            var index = i;
            scheduler.Schedule(_ =>
            {
                threads[index] = Environment.CurrentManagedThreadId;
                allDone.Signal();
            }, null);
        }
        release.Set();
        Assert.True(allDone.Wait(TimeSpan.FromSeconds(10)), "every queued pump ran");
        Assert.NotEqual(caller, threads[0]);
        Assert.All(threads, thread => Assert.Equal(threads[0], thread)); // queued while the first ran: the same work item took them
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)] // Kestrel's own socket transport sends
    public async Task AMembersAnswers_AreTheSame_ThroughEitherOutput(bool pumpClientOutput)
    {
        await using var member = await InProcessMember.StartAsync(pumpClientOutput: pumpClientOutput);
        var one = await member.PutAsync("lone", "v"); // a turn's only answer: sent at once
        var revisions = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => member.PutAsync($"k{i:D2}", new string('x', 300)))); // batched
        Assert.Equal(64, revisions.Distinct().Count());
        Assert.True(revisions.Min() > one);
        var range = await member.Kv.RangeAsync(new Etcdserverpb.RangeRequest
        {
            Key = Google.Protobuf.ByteString.CopyFromUtf8("k"), RangeEnd = Google.Protobuf.ByteString.CopyFromUtf8("l"),
        }, InProcessMember.Deadline());
        Assert.Equal(64, range.Count);
        Assert.Equal(revisions.Max(), range.Header.Revision);
        Assert.All(range.Kvs, kv => Assert.Equal(300, kv.Value.Length));
    }

    /// <summary>Records the thread on which each scheduled pump step runs.</summary>
    private sealed class RecordingScheduler(PipeScheduler inner) : PipeScheduler
    {
        public int? LastThread { get; private set; }

        public override void Schedule(Action<object?> action, object? state) => inner.Schedule(_ =>
        {
            LastThread = Environment.CurrentManagedThreadId;
            action(state);
        }, null);
    }

    /// <summary>A connected loopback pair: the server end is what <see cref="ClientOutput"/> sends on.</summary>
    private sealed class SocketPair : IDisposable
    {
        private SocketPair(Socket server, Socket client)
        {
            Server = server;
            Client = client;
        }

        public Socket Server { get; }

        public Socket Client { get; }

        public static async Task<SocketPair> OpenAsync()
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(1);
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            var accepting = listener.AcceptAsync();
            await client.ConnectAsync(listener.LocalEndPoint!);
            return new SocketPair(await accepting.WaitAsync(TimeSpan.FromSeconds(10)), client);
        }

        public async Task<byte[]> ReadClientAsync(int count, bool slowly = false)
        {
            var received = new byte[count];
            var offset = 0;
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (offset < count)
            {
                var read = await Client.ReceiveAsync(received.AsMemory(offset, Math.Min(count - offset, slowly ? 8 * 1024 : count - offset)), SocketFlags.None, deadline.Token);
                Assert.True(read > 0, $"the connection ended after {offset} of {count} bytes");
                offset += read;
                if (slowly && offset % (256 * 1024) < 8 * 1024)
                {
                    await Task.Delay(2);
                }
            }
            return received;
        }

        public void Dispose()
        {
            Server.Dispose();
            Client.Dispose();
        }
    }
}
