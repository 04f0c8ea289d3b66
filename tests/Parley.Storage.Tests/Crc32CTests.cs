using Parley.Storage;

namespace Parley.Storage.Tests;

public class Crc32CTests
{
    [Fact]
    public void Crc32C_MatchesTheStandardCheckValue()
    {
        // The CRC-32C (Castagnoli) check value of "123456789" (RFC 3720, appendix B.4).
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));
    }

    [Fact]
    public void Crc32C_ChangesWhenAnySingleBitFlips()
    {
        var data = new byte[67];
        new Random(5).NextBytes(data);
        var original = Crc32C.Compute(data);
        for (var bit = 0; bit < data.Length * 8; bit++)
        {
            data[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.NotEqual(original, Crc32C.Compute(data));
            data[bit / 8] ^= (byte)(1 << (bit % 8));
        }
    }
}
