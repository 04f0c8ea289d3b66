namespace Parley.Server.Http2;

/// <summary>
/// A header block (HEADERS and its CONTINUATION frames) of the client's stream that the server must see changed:
/// the original occupies <see cref="OriginalLength"/> bytes from absolute offset <see cref="Start"/> of the stream;
/// <see cref="Frames"/> replace them.
/// </summary>
internal sealed class HeaderBlockRewrite(long start, int originalLength, ReadOnlyMemory<byte> frames)
{
    public long Start { get; } = start;

    public int OriginalLength { get; } = originalLength;

    public ReadOnlyMemory<byte> Frames { get; } = frames;

    public long End => Start + OriginalLength;
}
