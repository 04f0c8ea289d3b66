using Parley.Checker.Models.Etcd;
using Parley.Checker.Models.Register;
using Parley.Checker.Search;

namespace Parley.Checker.Tests;

/// <summary>Short constructors for hand-written histories.</summary>
internal static class History
{
    public static Operation<RegisterInput, RegisterOutput> Register(int client, RegisterInput input, RegisterOutput output, long call, long returned) =>
        new(client, input, output, call, returned);

    public static Operation<EtcdRequest, EtcdResponse> Etcd(int client, EtcdRequest request, EtcdResponse response, long call, long returned) =>
        new(client, request, response, call, returned);

    public static Operation<EtcdRequest, EtcdResponse> EtcdUnknown(int client, EtcdRequest request, long call) =>
        new(client, request, EtcdResponse.Unknown, call, Operation<EtcdRequest, EtcdResponse>.NeverReturned);
}
