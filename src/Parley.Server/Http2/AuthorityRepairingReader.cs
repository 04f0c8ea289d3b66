using System.Buffers;
using System.IO.Pipelines;

namespace Parley.Server.Http2;

/// <summary>
/// The client-to-server side of a cleartext HTTP/2 connection as Kestrel reads it: the same bytes, except header
/// blocks whose <c>:authority</c> Kestrel would refuse (<see cref="Http2RequestScanner"/>), which it sees rewritten.
/// </summary>
/// <remarks>
/// Bytes are not copied: Kestrel is given slices of the transport's own buffer, cut short before a header block
/// that is incomplete or must change. A changed block is given on its own, from a separate array; once Kestrel has
/// consumed all of it, the original block is consumed from the transport. Offsets are absolute positions in the
/// stream so that positions in either kind of buffer can be mapped back to the transport's. Like any PipeReader it
/// serves one reader at a time.
/// </remarks>
internal sealed class AuthorityRepairingReader(PipeReader transport, int headerTableSize) : PipeReader
{
    private readonly Http2RequestScanner _scanner = new(headerTableSize);

    /// <summary>The transport's buffer from the last read, and the absolute offset of its start.</summary>
    private ReadOnlySequence<byte> _transportBuffer;
    private long _consumed;

    /// <summary>The furthest absolute offset passed to the transport as examined (it may never move back).</summary>
    private long _transportExamined;

    /// <summary>What the last read handed out: a slice of the transport buffer, or part of <see cref="Http2RequestScanner.Pending"/>.</summary>
    private ReadOnlySequence<byte> _handedOut;
    private bool _handedOutRewrite;

    /// <summary>How much of the pending rewrite the server has consumed, and how far it examined the transport's bytes.</summary>
    private int _rewriteConsumed;
    private long _serverExamined;

    public int RewrittenBlocks => _scanner.RewrittenBlocks;

    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var result = await transport.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (TryHandOut(result, out var handedOut))
            {
                return handedOut;
            }
            WaitForMore(result.Buffer);
        }
    }

    public override bool TryRead(out ReadResult result)
    {
        if (!transport.TryRead(out var transportResult))
        {
            result = default;
            return false;
        }
        if (TryHandOut(transportResult, out result))
        {
            return true;
        }
        WaitForMore(transportResult.Buffer);
        return false;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        var consumedBytes = _handedOut.Slice(_handedOut.Start, consumed).Length;
        var examinedBytes = _handedOut.Slice(_handedOut.Start, examined).Length;
        if (_handedOutRewrite)
        {
            AdvanceInRewrite((int)consumedBytes);
            return;
        }
        _serverExamined = Math.Max(_serverExamined, _consumed + examinedBytes);
        AdvanceTransport(_consumed + consumedBytes, _consumed + examinedBytes);
    }

    public override void CancelPendingRead() => transport.CancelPendingRead();

    public override void Complete(Exception? exception = null) => transport.Complete(exception);

    /// <summary>
    /// Decides what the server may see of <paramref name="result"/>; false if that is nothing it has not seen yet
    /// (the transport must wait for more bytes first).
    /// </summary>
    private bool TryHandOut(ReadResult result, out ReadResult handedOut)
    {
        var buffer = result.Buffer;
        _transportBuffer = buffer;
        var end = _consumed + buffer.Length;
        _scanner.Scan(buffer, _consumed, result.IsCompleted);
        if (_scanner.Pending is { } rewrite && rewrite.Start == _consumed)
        {
            _handedOut = new ReadOnlySequence<byte>(rewrite.Frames[_rewriteConsumed..]);
            _handedOutRewrite = true;
            handedOut = new ReadResult(_handedOut, result.IsCanceled, isCompleted: false);
            return true;
        }
        var passEnd = Math.Min(_scanner.Pending?.Start ?? _scanner.PassThroughEnd, end);
        var isNew = passEnd > Math.Max(_consumed, _serverExamined);
        if (!isNew && !result.IsCanceled && !(result.IsCompleted && passEnd == end))
        {
            handedOut = default;
            return false;
        }
        _handedOut = buffer.Slice(0, passEnd - _consumed);
        _handedOutRewrite = false;
        handedOut = new ReadResult(_handedOut, result.IsCanceled, result.IsCompleted && passEnd == end);
        return true;
    }

    private void WaitForMore(ReadOnlySequence<byte> buffer) => AdvanceTransport(_consumed, _consumed + buffer.Length);

    private void AdvanceInRewrite(int consumedBytes)
    {
        var rewrite = _scanner.Pending!;
        _rewriteConsumed += consumedBytes;
        if (_rewriteConsumed < rewrite.Frames.Length)
        {
            AdvanceTransport(_consumed, _consumed); // the original block stays until the server has all of its replacement
            return;
        }
        _rewriteConsumed = 0;
        _scanner.CompletePending();
        _serverExamined = rewrite.End;
        AdvanceTransport(rewrite.End, rewrite.End);
    }

    /// <summary>Advances the transport to absolute offsets, never moving its examined position back.</summary>
    private void AdvanceTransport(long consumed, long examined)
    {
        _transportExamined = Math.Max(_transportExamined, Math.Max(examined, consumed));
        var examinedInBuffer = Math.Min(_transportExamined, _consumed + _transportBuffer.Length) - _consumed;
        transport.AdvanceTo(_transportBuffer.GetPosition(consumed - _consumed), _transportBuffer.GetPosition(examinedInBuffer));
        _consumed = consumed;
        _transportBuffer = default;
        _handedOut = default;
    }
}
