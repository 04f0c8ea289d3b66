using Google.Protobuf;

namespace Parley.Bench.Tests;

public sealed class KeySpaceTests
{
    [Fact]
    public void Keys_HaveTheKeySize_AndEndInTheirIndex()
    {
        var keys = new KeySpace(100_000, 16);
        Assert.Equal(5, keys.Digits);
        Assert.Equal("kkkkkkkkkkk00042", keys.KeyText(42));
        Assert.Equal(16, keys.Key(99_999).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => keys.KeyText(100_000));
    }

    [Fact]
    public void SmallKeySpaces_StillUseFourDigits_SoRangesOf1000Work() =>
        Assert.Equal("kk0007", new KeySpace(10, 6).KeyText(7));

    [Fact]
    public void KeyTooSmallForTheCount_IsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new KeySpace(1_000_000, 6));

    [Theory]
    [InlineData(100)]
    [InlineData(1000)]
    public void PrefixRange_CoversExactlyItsGroup(int keysPerGroup)
    {
        var keys = new KeySpace(3_500, 8);
        Assert.Equal(3_500 / keysPerGroup, keys.GroupCount(keysPerGroup));
        for (var group = 0L; group < keys.GroupCount(keysPerGroup); group++)
        {
            var (start, end) = keys.PrefixRange(group, keysPerGroup);
            var inside = Enumerable.Range(0, 3_500).Where(index => Within(keys.Key(index), start, end)).ToArray();
            Assert.Equal(keysPerGroup, inside.Length);
            Assert.Equal(group * keysPerGroup, inside[0]);
            Assert.Equal(((group + 1) * keysPerGroup) - 1, inside[^1]);
        }
    }

    [Fact]
    public void PrefixRange_OfAPartialGroup_IsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new KeySpace(150, 8).PrefixRange(1, 100));

    private static bool Within(ByteString key, ByteString start, ByteString end) =>
        key.Span.SequenceCompareTo(start.Span) >= 0 && key.Span.SequenceCompareTo(end.Span) < 0;
}
