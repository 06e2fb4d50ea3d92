namespace Sios.Ledger.Sqlite.Tests;

/// <summary>A fact that needs <c>python3</c> on a Unix PATH to hold a lock from another process; skipped otherwise.</summary>
internal sealed class CrossProcessFactAttribute : FactAttribute
{
    public CrossProcessFactAttribute()
    {
        if (OperatingSystem.IsWindows())
        {
            Skip = "the lock-holding child uses fcntl.flock, which Windows lacks";
        }
        else if (Python is null)
        {
            Skip = "python3 is not on PATH; it plays the other process holding the writer lock";
        }
    }

    /// <summary>Full path of python3, or null when absent.</summary>
    public static string? Python { get; } = Find();

    private static string? Find() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "python3"))
            .FirstOrDefault(File.Exists);
}
