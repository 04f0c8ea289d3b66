using System.Text;
using Parley.Server.Http2;

namespace Parley.Server.Tests.Http2;

/// <summary>The host check mirrors Kestrel's (HttpUtilities.IsHostHeaderValid); a repair keeps the length and the port.</summary>
public class HostSyntaxTests
{
    [Theory]
    [InlineData("", true)]
    [InlineData("127.0.0.1:2379", true)]
    [InlineData("localhost", true)]
    [InlineData("my-host.example_~!$&'()", true)]
    [InlineData("[::1]:2379", true)]
    [InlineData("[fe80::1]", true)]
    [InlineData("http://127.0.0.1:2379", false)]
    [InlineData("https://host:443", false)]
    [InlineData(":2379", false)]
    [InlineData("host:", false)]
    [InlineData("host:12a", false)]
    [InlineData("[::]", false)] // Kestrel wants at least 3 characters between the brackets
    [InlineData("[::1", false)]
    [InlineData("user@host", false)]
    [InlineData("host/path", false)]
    public void IsAcceptable_AsKestrel(string value, bool acceptable)
    {
        Assert.Equal(acceptable, HostSyntax.IsAcceptable(Encoding.Latin1.GetBytes(value)));
    }

    [Theory]
    [InlineData("http://127.0.0.1:2379", "http---127.0.0.1:2379")]
    [InlineData("https://etcd.example:443", "https---etcd.example:443")]
    [InlineData("http://[::1]:2379", "http------1-:2379")]
    [InlineData("unix:///tmp/sock", "unix----tmp-sock")]
    [InlineData(":2379", "-2379")]
    [InlineData("host:", "host-")]
    [InlineData("h\u00e9st:80", "h-st:80")]
    public void Repair_KeepsLengthAndPort(string value, string repaired)
    {
        var bytes = Encoding.Latin1.GetBytes(value);
        var output = new byte[bytes.Length];
        HostSyntax.Repair(bytes, output);
        Assert.Equal(repaired, Encoding.Latin1.GetString(output));
        Assert.True(HostSyntax.IsAcceptable(output));
    }
}
