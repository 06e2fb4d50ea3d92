namespace Sios.Cli.Hosting;

/// <summary>The exit codes every sios command uses; scripts may rely on them.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Invalid = 1;
    public const int Usage = 2;
    public const int Failed = 3;
    public const int InUse = 4;
    public const int Integrity = 5;

    public const string Help = """
        Exit codes:
          0  success
          1  verification failed: the artefact or the stored log is not intact (the reason is printed)
          2  usage error: unknown command, bad or missing argument
          3  could not run: no data folder, SIOS_KEY_PASSPHRASE missing or wrong, entry not found, I/O error
          4  the log is in use by another process (its PID is printed) or, on a shared store, another node (named)
          5  refused: the stored log disagrees with its own last signed checkpoint
        """;
}

/// <summary>A failure the user can act on, with the exit code to leave with.</summary>
internal sealed class CliException(string message, int exitCode = ExitCodes.Failed) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
