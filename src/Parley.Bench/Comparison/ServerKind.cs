namespace Parley.Bench.Comparison;

public enum ServerKind
{
    Etcd,
    Parley,
}
