namespace Parley.Server.Backup;

/// <summary>What reading a snapshot file demands of its SHA-256 trailer (the body's own checksum is always checked).</summary>
internal enum BackupCheck
{
    /// <summary>The trailer must be there and match (restore, as etcdctl's without --skip-hash-check).</summary>
    RequireTrailer,

    /// <summary>A trailer that is there must match; a file without one is read (status).</summary>
    VerifyTrailerIfPresent,

    /// <summary>The trailer is neither required nor checked (restore --skip-hash-check).</summary>
    SkipTrailer,
}
