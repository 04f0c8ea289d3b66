namespace Parley.Torture;

public enum NetnsResourceKind
{
    Namespace,
    Table,
    Link,
}

/// <summary>A namespace, nftables table or link made by netns mode, and the process that made it.</summary>
public sealed record NetnsResource(NetnsResourceKind Kind, string Name, string? Family, int Owner)
{
    public override string ToString() => Kind switch
    {
        NetnsResourceKind.Namespace => "namespace " + Name,
        NetnsResourceKind.Table => $"nft table {Family} {Name}",
        _ => "link " + Name,
    };
}
