using Grpc.Core;
using Parley.Mvcc;
using Parley.Server.Grpc;

namespace Parley.Server.Auth;

/// <summary>
/// The member's single auth check point for requests: resolves the token from the <c>token</c> or
/// <c>authorization</c> metadata to a caller (user + the auth revision it was resolved at), applies a method's
/// <see cref="AuthRequirement"/>, and keeps the member's tokens in step with applied auth entries. Reads the auth
/// state the node loop publishes; never blocks the loop.
/// </summary>
internal sealed class AuthGate
{
    /// <summary>How long a request with a token from a not-yet-applied Authenticate waits for this member to apply it.</summary>
    public static readonly TimeSpan TokenApplyWait = TimeSpan.FromSeconds(5);

    private const string CallerKey = "parley-auth-caller";
    private static readonly TimeSpan TokenApplyPoll = TimeSpan.FromMilliseconds(5);

    private readonly Func<AuthState> _state;
    // Set before the first caller is recorded: until then no call has one, and Caller need not look (a call's
    // UserState is created when first touched).
    private volatile bool _callersRecorded;

    public AuthGate(Func<AuthState> state, SimpleTokenStore tokens)
    {
        _state = state;
        Tokens = tokens;
    }

    public SimpleTokenStore Tokens { get; }

    /// <summary>The auth state as of this member's last applied entry.</summary>
    public AuthState State => _state();

    /// <summary>The caller <see cref="AuthorizeAsync(ServerCallContext, AuthRequirement)"/> found for this call (<see cref="AuthCaller.None"/> without a token).</summary>
    public AuthCaller Caller(ServerCallContext context) =>
        _callersRecorded && context.UserState.TryGetValue(CallerKey, out var caller) ? (AuthCaller)caller : AuthCaller.None;

    /// <summary>Checks a call with its method's <see cref="AuthRequirements"/>; completes at once while auth is disabled.</summary>
    public ValueTask AuthorizeAsync(ServerCallContext context) =>
        State.Enabled ? AuthorizeAsync(context, AuthRequirements.For(context.Method)) : ValueTask.CompletedTask;

    /// <summary>Checks a call before its handler runs; throws etcd's error when the call may not proceed.</summary>
    public async ValueTask AuthorizeAsync(ServerCallContext context, AuthRequirement requirement)
    {
        if (requirement == AuthRequirement.None || !State.Enabled)
        {
            return;
        }
        var token = CallHeaders.Get(context, "token") ?? CallHeaders.Get(context, "authorization");
        var caller = AuthCaller.None;
        if (!string.IsNullOrEmpty(token))
        {
            caller = await ResolveAsync(token, context.CancellationToken).ConfigureAwait(false);
            _callersRecorded = true;
            context.UserState[CallerKey] = caller;
        }
        if (requirement == AuthRequirement.Admin)
        {
            ThrowIfFailed(State.CheckAdmin(caller.User));
        }
    }

    public static void ThrowIfFailed(MvccError error)
    {
        if (error != MvccError.None)
        {
            throw new RpcException(new global::Grpc.Core.Status((StatusCode)(int)MvccErrors.StatusCode(error), MvccErrors.Message(error)));
        }
    }

    /// <summary>Keeps tokens in step with what this member applies (runs on the loop thread, every member).</summary>
    public void OnApplied(WriteCommand command, WriteOutcome outcome)
    {
        if (command.Kind != WriteCommandKind.Auth || outcome.Response is not AuthResponse response)
        {
            return;
        }
        switch (response.Operation)
        {
            case AuthOperation.Authenticate:
                Tokens.Assign(response.Token, response.User);
                break;
            case AuthOperation.UserDelete or AuthOperation.UserChangePassword:
                Tokens.InvalidateUser(response.User);
                break;
            case AuthOperation.Disable:
                Tokens.Clear();
                break;
        }
    }

    private async ValueTask<AuthCaller> ResolveAsync(string token, CancellationToken cancellation)
    {
        var waited = TimeSpan.Zero;
        while (true)
        {
            var state = State;
            if (Tokens.TryResolve(token, out var user))
            {
                return new AuthCaller(user, state.Revision);
            }
            // etcd's simple tokens carry the index of the entry that made them: a member behind that entry waits.
            if (!SimpleTokenStore.TryParseSequence(token, out var sequence) || sequence <= state.TokenSequence || waited >= TokenApplyWait)
            {
                ThrowIfFailed(MvccError.AuthInvalidToken);
            }
            await Task.Delay(TokenApplyPoll, cancellation).ConfigureAwait(false);
            waited += TokenApplyPoll;
        }
    }
}
