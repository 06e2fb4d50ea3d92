namespace Sios.Ledger.Durable;

/// <summary>
/// Named points in multi-step durable changes (key changes, a witness's record and state) where tests make the process
/// stop dead, as a crash would: when SIOS_FAULT_EXIT_AT names the point, the process exits with code 86 at once,
/// running no finally blocks.
/// </summary>
public static class FaultPoint
{
    /// <summary>The environment variable naming the point to stop at.</summary>
    public const string Variable = "SIOS_FAULT_EXIT_AT";

    /// <summary>The exit code of a process stopped at a fault point.</summary>
    public const int ExitCode = 86;

    /// <summary>Exits the process at once if <see cref="Variable"/> names <paramref name="name"/>.</summary>
    public static void Reach(string name)
    {
        if (string.Equals(Environment.GetEnvironmentVariable(Variable), name, StringComparison.Ordinal))
        {
            Environment.Exit(ExitCode);
        }
    }
}
