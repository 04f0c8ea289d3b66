namespace Parley.Server.Http2;

/// <summary>
/// One <c>:authority</c> value to replace inside a header block: the string literal at <paramref name="Offset"/>
/// (its length prefix and data, <paramref name="EncodedLength"/> bytes) becomes <paramref name="Value"/>, sent as a
/// plain literal. The decoded length does not change, so the dynamic tables of both sides stay the same size.
/// </summary>
internal readonly record struct AuthorityEdit(int Offset, int EncodedLength, byte[] Value);
