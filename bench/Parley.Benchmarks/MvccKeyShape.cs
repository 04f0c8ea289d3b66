namespace Parley.Benchmarks;

/// <summary>How the keys of a benchmark store look.</summary>
public enum MvccKeyShape
{
    /// <summary>16 random bytes: keys differ in their first byte or two.</summary>
    Random,

    /// <summary>
    /// What `parley bench` writes: 16 ASCII bytes, a filler then the zero-padded index ("kkkkkkkkkkk00042"), so
    /// every key shares its first 10-11 bytes with every other (like etcd's "/registry/..." keys).
    /// </summary>
    SharedPrefix,
}
