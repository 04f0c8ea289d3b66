using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace Parley.Server.Grpc;

/// <summary>
/// The <see cref="ServerCallContext"/> of a call <see cref="DirectUnaryCalls"/> serves: the call's HTTP request, its
/// method's path, its deadline, and a cancellation token made only when asked for (the KV handlers ask only to wait
/// for a token's auth entry), cancelled when the client goes away or the deadline passes.
/// </summary>
internal sealed class UnaryCallContext : ServerCallContext
{
    private readonly string _method;
    private readonly DateTime _deadline;
    private CancellationTokenSource? _cancellation;
    private int _deadlineExceeded; // 1 once the deadline has passed
    private Metadata? _requestHeaders;
    private Metadata? _responseTrailers;
    private AuthContext? _authContext;
    private Status _status;
    private WriteOptions? _writeOptions;

    public UnaryCallContext(HttpContext http, string method, DateTime deadline)
    {
        Http = http;
        _method = method;
        _deadline = deadline;
    }

    public HttpContext Http { get; }

    /// <summary>Trailers a handler added (<see cref="ServerCallContext.ResponseTrailers"/>), null when it added none.</summary>
    public Metadata? AddedTrailers => _responseTrailers;

    /// <summary>Cancels the call's token (if one was handed out, and any handed out later) once its deadline has passed.</summary>
    public void DeadlineExceeded()
    {
        Interlocked.Exchange(ref _deadlineExceeded, 1); // a full fence: the source is read after the flag is visible
        Volatile.Read(ref _cancellation)?.Cancel();
    }

    /// <summary>Releases the token's link to the request (the request object is reused once the call is over).</summary>
    public void Complete() => Volatile.Read(ref _cancellation)?.Dispose();

    protected override string MethodCore => _method;

    protected override string HostCore => Http.Request.Host.Value ?? "";

    protected override string PeerCore
    {
        get
        {
            var connection = Http.Connection;
            return connection.RemoteIpAddress is { } address
                ? $"{(address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "ipv6:[" + address + "]" : "ipv4:" + address)}:{connection.RemotePort}"
                : "unknown";
        }
    }

    protected override DateTime DeadlineCore => _deadline;

    protected override Metadata RequestHeadersCore => _requestHeaders ??= CopyRequestHeaders(Http.Request.Headers);

    protected override CancellationToken CancellationTokenCore
    {
        get
        {
            if (Volatile.Read(ref _cancellation) is { } existing)
            {
                return existing.Token;
            }
            var created = CancellationTokenSource.CreateLinkedTokenSource(Http.RequestAborted);
            var cancellation = Interlocked.CompareExchange(ref _cancellation, created, null) ?? created;
            if (cancellation != created)
            {
                created.Dispose(); // another thread's came first
            }
            // Published (with a full fence) before the flag is read: a deadline passing meanwhile sees this source, or is seen here.
            if (Volatile.Read(ref _deadlineExceeded) == 1)
            {
                cancellation.Cancel();
            }
            return cancellation.Token;
        }
    }

    protected override Metadata ResponseTrailersCore => _responseTrailers ??= [];

    protected override Status StatusCore
    {
        get => _status;
        set => _status = value;
    }

    protected override WriteOptions? WriteOptionsCore
    {
        get => _writeOptions;
        set => _writeOptions = value;
    }

    protected override AuthContext AuthContextCore => _authContext ??= new AuthContext(null, []);

    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) =>
        throw new NotSupportedException("Parley's gRPC server does not propagate call contexts to outgoing calls.");

    protected override async Task WriteResponseHeadersAsyncCore(Metadata responseHeaders)
    {
        foreach (var header in responseHeaders)
        {
            Http.Response.Headers.Append(header.Key, header.IsBinary ? Convert.ToBase64String(header.ValueBytes) : header.Value);
        }
        await Http.Response.StartAsync().ConfigureAwait(false);
    }

    /// <summary>The request's headers as gRPC metadata (binary ones decoded), without HTTP/2's pseudo-headers.</summary>
    private static Metadata CopyRequestHeaders(IHeaderDictionary headers)
    {
        var metadata = new Metadata();
        foreach (var (name, values) in headers)
        {
            if (name.StartsWith(':'))
            {
                continue;
            }
            if (name.EndsWith(Metadata.BinaryHeaderSuffix, StringComparison.OrdinalIgnoreCase))
            {
                foreach (var value in values)
                {
                    metadata.Add(name, Convert.FromBase64String(PadBase64(value ?? "")));
                }
            }
            else
            {
                metadata.Add(name, values.ToString());
            }
        }
        return metadata;
    }

    private static string PadBase64(string value) => (value.Length % 4) switch
    {
        2 => value + "==",
        3 => value + "=",
        _ => value,
    };
}
