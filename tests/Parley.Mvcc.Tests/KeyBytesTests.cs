namespace Parley.Mvcc.Tests;

public class KeyBytesTests
{
    [Fact]
    public void LongLived_IsACopy_OnTheHeapTheRuntimeDoesNotMove()
    {
        byte[] source = [1, 2, 3, 4, 5];
        byte[] copy = KeyBytes.LongLived(source);
        source[0] = 9;

        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, copy);
        Assert.Equal(GC.MaxGeneration, GC.GetGeneration(copy)); // pinned-object heap: never promoted through the young generations
    }

    [Fact]
    public void LongLived_OfNothing_IsAnEmptyArray_NotNull() => Assert.Empty(KeyBytes.LongLived([]));
}
