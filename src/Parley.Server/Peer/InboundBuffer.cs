using System.Buffers;
using System.Net.Sockets;

namespace Parley.Server.Peer;

/// <summary>
/// The bytes a peer connection's reader thread has received and not yet consumed: one array, filled by blocking
/// receives, compacted when its front is consumed and grown (doubled) when a frame does not fit. Frames decoded from
/// <see cref="Unread"/> must copy what they keep: the array is reused once they are consumed.
/// </summary>
internal sealed class InboundBuffer(int initialBytes)
{
    private byte[] _bytes = new byte[initialBytes];
    private int _start;
    private int _end;

    /// <summary>Received, not yet consumed.</summary>
    public ReadOnlySequence<byte> Unread => new(_bytes, _start, _end - _start);

    /// <summary>Blocks until the socket gives more bytes; false at the end of the stream (the peer closed its side).</summary>
    public bool Receive(Socket socket)
    {
        if (_end == _bytes.Length)
        {
            if (_start > 0)
            {
                _bytes.AsSpan(_start, _end - _start).CopyTo(_bytes);
                (_start, _end) = (0, _end - _start);
            }
            else
            {
                if (_bytes.Length > Array.MaxLength / 2)
                {
                    throw new FormatException($"a peer frame of over {_bytes.Length} bytes");
                }
                Array.Resize(ref _bytes, _bytes.Length * 2); // a frame longer than what is held: it arrives as it is sent
            }
        }
        var received = socket.Receive(_bytes.AsSpan(_end));
        _end += received;
        return received > 0;
    }

    /// <summary>The first <paramref name="bytes"/> of <see cref="Unread"/> are done with.</summary>
    public void Consume(long bytes)
    {
        _start += checked((int)bytes);
        if (_start == _end)
        {
            (_start, _end) = (0, 0);
        }
    }
}
