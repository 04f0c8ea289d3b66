using Parley.Raft;

namespace Parley.Raft.Tests;

public sealed class InvariantTests
{
    private int _formatted;

    [Fact]
    public void APassingCheck_DoesNotFormatItsMessage()
    {
        for (var i = 0; i < 3; i++)
        {
            Invariant.Check(i < 3, $"index {Counted(i)} out of range");
        }
        Assert.Equal(0, _formatted);
    }

    [Fact]
    public void AFailingCheck_ThrowsWithTheFormattedMessage()
    {
        var error = Assert.Throws<InvariantViolationException>(() => Invariant.Check(false, $"slice [{Counted(7)},{9:D3}) outside [{"a",3}]"));
        Assert.Equal("slice [7,009) outside [  a]", error.Message);
        Assert.Equal(1, _formatted);
    }

    private int Counted(int value)
    {
        _formatted++;
        return value;
    }
}
