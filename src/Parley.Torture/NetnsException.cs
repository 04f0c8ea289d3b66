namespace Parley.Torture;

/// <summary>Setting up or changing the namespace network failed (a host command failed, or the host cannot do it).</summary>
public sealed class NetnsException : Exception
{
    public NetnsException()
    {
    }

    public NetnsException(string message) : base(message)
    {
    }

    public NetnsException(string message, Exception inner) : base(message, inner)
    {
    }
}
