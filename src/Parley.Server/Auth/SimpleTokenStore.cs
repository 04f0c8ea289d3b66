using System.Globalization;
using System.Security.Cryptography;

namespace Parley.Server.Auth;

/// <summary>
/// etcd's simple tokens on one member: token → user, assigned when an Authenticate entry is applied here (so every
/// member knows every token), each living <see cref="Ttl"/> after its last use as this member's monotonic clock measures it
/// (a jump of the wall clock neither ends nor extends a token).
/// A token is <c>16 random letters + "." + sequence</c>; the sequence says which applied Authenticate made it, so a
/// member that has not applied it yet can wait instead of calling the token invalid. Bounded: at
/// <see cref="TokensMax"/> the soonest-expiring token makes room.
/// </summary>
internal sealed class SimpleTokenStore
{
    public const int TokensMax = 100_000;
    private const string Letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    private const int PrefixLetters = 16;

    private readonly Dictionary<string, Entry> _tokens = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly long _start;

    public SimpleTokenStore(TimeSpan ttl, TimeProvider time)
    {
        Ttl = ttl;
        _time = time;
        _start = time.GetTimestamp();
    }

    public TimeSpan Ttl { get; }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _tokens.Count;
            }
        }
    }

    public static string NewPrefix() => RandomNumberGenerator.GetString(Letters, PrefixLetters);

    /// <summary>The sequence part of a simple token, or false when the token does not look like one.</summary>
    public static bool TryParseSequence(string token, out long sequence)
    {
        sequence = 0;
        var dot = token.LastIndexOf('.');
        return dot > 0 && long.TryParse(token.AsSpan(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out sequence);
    }

    public void Assign(string token, string user)
    {
        var now = Now();
        lock (_lock)
        {
            if (_tokens.Count >= TokensMax && !_tokens.ContainsKey(token))
            {
                MakeRoom(now);
            }
            _tokens[token] = new Entry(user, now + Ttl);
        }
    }

    /// <summary>The token's user, extending its life; false when unknown or expired.</summary>
    public bool TryResolve(string token, out string user)
    {
        var now = Now();
        lock (_lock)
        {
            if (_tokens.TryGetValue(token, out var entry))
            {
                if (entry.ExpiresAt > now)
                {
                    _tokens[token] = entry with { ExpiresAt = now + Ttl };
                    user = entry.User;
                    return true;
                }
                _tokens.Remove(token);
            }
        }
        user = "";
        return false;
    }

    /// <summary>A deleted user, or one whose password changed, loses every token (etcd's invalidateUser).</summary>
    public void InvalidateUser(string user)
    {
        lock (_lock)
        {
            foreach (var (token, entry) in _tokens)
            {
                if (entry.User == user)
                {
                    _tokens.Remove(token);
                }
            }
        }
    }

    /// <summary>Auth disabled: every token ends.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _tokens.Clear();
        }
    }

    /// <summary>Time since this store began, on the monotonic clock (CLOCK_MONOTONIC for the system's provider).</summary>
    private TimeSpan Now() => _time.GetElapsedTime(_start);

    private void MakeRoom(TimeSpan now)
    {
        string? soonest = null;
        var soonestAt = TimeSpan.MaxValue;
        foreach (var (token, entry) in _tokens)
        {
            if (entry.ExpiresAt <= now)
            {
                _tokens.Remove(token);
            }
            else if (entry.ExpiresAt < soonestAt)
            {
                soonest = token;
                soonestAt = entry.ExpiresAt;
            }
        }
        if (_tokens.Count >= TokensMax && soonest is not null)
        {
            _tokens.Remove(soonest);
        }
    }

    private readonly record struct Entry(string User, TimeSpan ExpiresAt);
}
