namespace Parley.Server;

/// <summary>A flag is wrong or conflicts with another; the message says which and why.</summary>
public sealed class ServerOptionsException(string message) : Exception(message);
