using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Parley.Server;

/// <summary>
/// Member and cluster ids derived as etcd derives them: a member's id hashes its sorted peer URLs and the cluster
/// token; the cluster id hashes the sorted member ids. Every member computes the same ids from the same flags.
/// </summary>
public static class MemberIdentity
{
    public static ulong MemberId(IEnumerable<Uri> peerUrls, string clusterToken)
    {
        var text = string.Join("", peerUrls.Select(Normalize).Order(StringComparer.Ordinal)) + clusterToken;
        return NonZero(Hash(Encoding.UTF8.GetBytes(text)));
    }

    public static ulong ClusterId(IEnumerable<ulong> memberIds, string clusterToken)
    {
        var ids = memberIds.Order().ToArray();
        var bytes = new byte[ids.Length * 8 + Encoding.UTF8.GetByteCount(clusterToken)];
        for (var i = 0; i < ids.Length; i++)
        {
            BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(i * 8), ids[i]);
        }
        Encoding.UTF8.GetBytes(clusterToken, bytes.AsSpan(ids.Length * 8));
        return NonZero(Hash(bytes));
    }

    public static string Normalize(Uri url) => url.GetLeftPart(UriPartial.Authority).TrimEnd('/');

    private static ulong Hash(byte[] bytes) => BinaryPrimitives.ReadUInt64BigEndian(SHA256.HashData(bytes));

    private static ulong NonZero(ulong id) => id == 0 ? 1 : id;
}
