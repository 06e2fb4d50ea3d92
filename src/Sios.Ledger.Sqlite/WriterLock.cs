using System.Globalization;
using Sios.Ledger.Durable;
using Sios.Ledger.Storage;

namespace Sios.Ledger.Sqlite;

/// <summary>
/// The single-writer lock of one log: an exclusive handle on <c>&lt;database&gt;.lock</c> plus the holder's PID in
/// <c>&lt;database&gt;.pid</c> so a refused writer can say who holds it.
/// </summary>
/// <remarks>
/// On Linux and macOS .NET implements <see cref="FileShare.None"/> with <c>flock(LOCK_EX | LOCK_NB)</c>. That lock
/// belongs to the open file description, so it also excludes a second handle opened in this same process, and the
/// kernel drops it when the process dies: a crashed writer never leaves a stale lock behind. The lock file itself is
/// never deleted, because unlinking it would let two processes lock two different inodes under the same name.
/// </remarks>
internal sealed class WriterLock : IDisposable
{
    private readonly FileStream _lockFile;
    private readonly string _pidPath;

    private WriterLock(FileStream lockFile, string pidPath)
    {
        _lockFile = lockFile;
        _pidPath = pidPath;
    }

    /// <summary>Path of the lock file guarding <paramref name="databasePath"/>.</summary>
    public static string LockPathOf(string databasePath) => databasePath + ".lock";

    /// <summary>Path of the file naming the PID of the current lock holder.</summary>
    public static string PidPathOf(string databasePath) => databasePath + ".pid";

    /// <summary>Takes the lock or throws <see cref="LogInUseException"/> naming the holder.</summary>
    public static WriterLock Acquire(string databasePath)
    {
        RefuseDisabledFileLocking();
        var lockPath = LockPathOf(databasePath);
        var pidPath = PidPathOf(databasePath);
        FileStream stream;
        try
        {
            stream = FileLock.Acquire(lockPath, TimeSpan.Zero, $"log is in use (lock {lockPath})");
        }
        catch (FileLockBusyException ex)
        {
            throw new LogInUseException($"log is in use by PID {ReadHolder(pidPath)} (lock {lockPath})", ex);
        }

        try
        {
            File.WriteAllText(pidPath, Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
        }
        catch
        {
            stream.Dispose();
            throw;
        }

        return new WriterLock(stream, pidPath);
    }

    /// <summary>Removes the PID file, then releases the lock (in that order, so the file never names a stranger).</summary>
    public void Dispose()
    {
        try
        {
            File.Delete(_pidPath);
        }
        catch (IOException)
        {
            // A PID file that cannot be removed is only stale information; the next holder overwrites it.
        }
        catch (UnauthorizedAccessException)
        {
            // Same as above: releasing the lock matters more than tidying the PID file.
        }

        _lockFile.Dispose();
    }

    private static string ReadHolder(string pidPath)
    {
        try
        {
            var text = File.ReadAllText(pidPath).Trim();
            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                ? pid.ToString(CultureInfo.InvariantCulture)
                : "unknown";
        }
        catch (IOException)
        {
            return "unknown";
        }
        catch (UnauthorizedAccessException)
        {
            return "unknown";
        }
    }

    // With the switch set, FileShare.None silently locks nothing on Unix and two writers could interleave.
    private static void RefuseDisabledFileLocking()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var disabled = AppContext.TryGetSwitch("System.IO.DisableFileLocking", out var on) && on;
        var variable = Environment.GetEnvironmentVariable("DOTNET_SYSTEM_IO_DISABLEFILELOCKING");
        disabled |= variable is not null
            && (variable == "1" || variable.Equals("true", StringComparison.OrdinalIgnoreCase));
        if (disabled)
        {
            throw new InvalidOperationException(
                "file locking is disabled in this process (System.IO.DisableFileLocking or "
                + "DOTNET_SYSTEM_IO_DISABLEFILELOCKING), so the single-writer lock cannot be enforced; unset it and retry");
        }
    }
}
