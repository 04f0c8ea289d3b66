namespace Parley.Checker.Reporting;

/// <summary>Exit codes of <c>parley check linearizability</c>, in order of precedence when files disagree.</summary>
public static class CheckExitCode
{
    /// <summary>Every file is linearizable.</summary>
    public const int Linearizable = 0;

    /// <summary>At least one file is not linearizable (wins over everything else: it is a proven bug).</summary>
    public const int NotLinearizable = 1;

    /// <summary>At least one file could not be read or parsed (and none was proven not linearizable).</summary>
    public const int UnreadableInput = 2;

    /// <summary>At least one file ran out of budget, none failed and all were readable: no bug found, but no pass either.</summary>
    public const int Unknown = 3;
}
