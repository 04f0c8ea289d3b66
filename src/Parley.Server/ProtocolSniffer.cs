using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Parley.Server.Http2;

namespace Parley.Server;

/// <summary>
/// Serves cleartext HTTP/2 (gRPC, prior knowledge) and HTTP/1.1 on one port, as etcd does. Kestrel picks HTTP/1.1
/// for every cleartext connection on an Http1AndHttp2 endpoint because it has no ALPN to go by; this connection
/// middleware peeks at the first bytes (without consuming them) and, when they start the HTTP/2 preface
/// ("PRI * HTTP/2.0"), tells Kestrel that ALPN chose "h2". See shared/reference/etcd-v3-compat.md §1.
/// An HTTP/2 connection's input then goes through <see cref="AuthorityRepairingReader"/>, so that requests whose
/// <c>:authority</c> is a URL (etcdctl's, when an endpoint is given as <c>http://host:port</c>) reach Kestrel with a
/// host it accepts, as etcd accepts them.
/// </summary>
internal static class ProtocolSniffer
{
    private static readonly byte[] Http2PrefacePrefix = "PRI *"u8.ToArray();

    public static void UseSniffing(this ListenOptions listen)
    {
        listen.Protocols = HttpProtocols.Http1AndHttp2;
        var headerTableSize = listen.KestrelServerOptions.Limits.Http2.HeaderTableSize;
        listen.Use(next => async connection =>
        {
            if (await StartsWithHttp2PrefaceAsync(connection).ConfigureAwait(false))
            {
                connection.Features.Set<ITlsConnectionFeature>(CleartextHttp2.Instance);
                connection.Features.Set<ITlsApplicationProtocolFeature>(CleartextHttp2.Instance);
                var transport = connection.Transport;
                connection.Transport = new DuplexPipe(new AuthorityRepairingReader(transport.Input, headerTableSize), transport.Output);
            }
            await next(connection).ConfigureAwait(false);
        });
    }

    private static async Task<bool> StartsWithHttp2PrefaceAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        ReadResult result;
        try
        {
            // Waits inside the pipe until the prefix is in (or the client is gone), without marking anything examined.
            result = await input.ReadAtLeastAsync(Http2PrefacePrefix.Length, connection.ConnectionClosed).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        var buffer = result.Buffer;
        var isHttp2 = buffer.Length >= Http2PrefacePrefix.Length && StartsWith(buffer, Http2PrefacePrefix);
        input.AdvanceTo(buffer.Start); // nothing consumed, nothing examined: Kestrel reads the same bytes
        return isHttp2;
    }

    private static bool StartsWith(ReadOnlySequence<byte> buffer, byte[] prefix)
    {
        Span<byte> head = stackalloc byte[prefix.Length];
        buffer.Slice(0, prefix.Length).CopyTo(head);
        return head.SequenceEqual(prefix);
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }

    /// <summary>Stands in for the TLS features Kestrel consults when choosing the protocol of a connection.</summary>
    private sealed class CleartextHttp2 : ITlsConnectionFeature, ITlsApplicationProtocolFeature
    {
        public static readonly CleartextHttp2 Instance = new();

        public X509Certificate2? ClientCertificate { get; set; }

        public ReadOnlyMemory<byte> ApplicationProtocol { get; } = "h2"u8.ToArray();

        public Task<X509Certificate2?> GetClientCertificateAsync(CancellationToken cancellationToken) => Task.FromResult<X509Certificate2?>(null);
    }
}
