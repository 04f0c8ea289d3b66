using Parley.Server.Auth;

namespace Parley.Server.Tests;

public sealed class AuthTokenTests
{
    /// <summary><see cref="Now"/> moves both clocks (time passing); <see cref="Wall"/> alone is a wall-clock jump.</summary>
    private sealed class ManualTime : TimeProvider
    {
        private TimeSpan _elapsed;

        public DateTimeOffset Wall { get; set; } = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public DateTimeOffset Now
        {
            get => Wall;
            set
            {
                _elapsed += value - Wall;
                Wall = value;
            }
        }

        public override DateTimeOffset GetUtcNow() => Wall;

        public override long GetTimestamp() => _elapsed.Ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
    }

    [Fact]
    public void SimpleTokens_IgnoreWallClockJumps()
    {
        var time = new ManualTime();
        var tokens = new SimpleTokenStore(TimeSpan.FromSeconds(300), time);
        tokens.Assign("abc.1", "alice");
        time.Wall += TimeSpan.FromDays(1); // the wall clock jumps forward: the token lives on
        Assert.True(tokens.TryResolve("abc.1", out _));
        time.Wall -= TimeSpan.FromDays(2); // and back: no longer life either
        time.Now += TimeSpan.FromSeconds(301);
        Assert.False(tokens.TryResolve("abc.1", out _));
    }

    [Fact]
    public void SimpleToken_ExpiresAfterItsTtl_AndEachUseExtendsIt()
    {
        var time = new ManualTime();
        var tokens = new SimpleTokenStore(TimeSpan.FromSeconds(300), time);
        tokens.Assign("abc.1", "alice");
        time.Now += TimeSpan.FromSeconds(299);
        Assert.True(tokens.TryResolve("abc.1", out var user));
        Assert.Equal("alice", user);
        time.Now += TimeSpan.FromSeconds(299); // 598 s after assignment, 299 s after the last use
        Assert.True(tokens.TryResolve("abc.1", out _));
        time.Now += TimeSpan.FromSeconds(300);
        Assert.False(tokens.TryResolve("abc.1", out _));
        Assert.Equal(0, tokens.Count);
    }

    [Fact]
    public void SimpleTokens_OfAUser_EndTogether_AndDisableEndsAll()
    {
        var tokens = new SimpleTokenStore(TimeSpan.FromSeconds(300), new ManualTime());
        tokens.Assign("a.1", "alice");
        tokens.Assign("a.2", "alice");
        tokens.Assign("b.3", "bob");
        tokens.InvalidateUser("alice");
        Assert.False(tokens.TryResolve("a.1", out _));
        Assert.False(tokens.TryResolve("a.2", out _));
        Assert.True(tokens.TryResolve("b.3", out _));
        tokens.Clear();
        Assert.False(tokens.TryResolve("b.3", out _));
    }

    [Fact]
    public void SimpleToken_LooksLikeEtcds_AndCarriesItsSequence()
    {
        var prefix = SimpleTokenStore.NewPrefix();
        Assert.Matches("^[A-Za-z]{16}$", prefix);
        Assert.True(SimpleTokenStore.TryParseSequence(prefix + ".42", out var sequence));
        Assert.Equal(42, sequence);
        Assert.False(SimpleTokenStore.TryParseSequence("no-sequence", out _));
        Assert.False(SimpleTokenStore.TryParseSequence("x.-1", out _));
    }

    [Fact]
    public void PasswordHash_VerifiesOnlyTheSamePassword_AndIsSalted()
    {
        var hash = PasswordHasher.Hash("secret");
        Assert.StartsWith("pbkdf2-sha256$100000$", hash, StringComparison.Ordinal);
        Assert.True(PasswordHasher.Verify("secret", hash));
        Assert.False(PasswordHasher.Verify("Secret", hash));
        Assert.False(PasswordHasher.Verify("", hash));
        Assert.NotEqual(hash, PasswordHasher.Hash("secret"));
        Assert.False(PasswordHasher.Verify("secret", ""));
        Assert.False(PasswordHasher.Verify("secret", "pbkdf2-sha256$1$not base64$x"));
    }
}
