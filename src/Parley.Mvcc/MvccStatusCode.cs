namespace Parley.Mvcc;

/// <summary>The gRPC status code an error maps to (same numbers as gRPC, so the server casts).</summary>
public enum MvccStatusCode
{
    Ok = 0,
    InvalidArgument = 3,
    NotFound = 5,
    PermissionDenied = 7,
    ResourceExhausted = 8,
    FailedPrecondition = 9,
    OutOfRange = 11,
    DataLoss = 15,
    Unauthenticated = 16,
}
