using System.Diagnostics;
using Sios.Ledger.Storage;

namespace Sios.Ledger.Durable;

/// <summary>
/// The one way SIOS takes a cross-process lock: a lock file opened with <see cref="FileShare.None"/> (flock on Unix),
/// which conflicts between any two handles, in one process or several, and dies with its process, so a crash never
/// leaves it stuck. Only a lock another handle holds is waited for (<see cref="FileLockContention"/>); a read-only or
/// full disk, a missing folder or a permission problem fails at once as what it is, never as "in use".
/// </summary>
public static class FileLock
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(25);

    /// <summary>
    /// Takes the lock <paramref name="path"/> (created 0600 if absent), waiting up to <paramref name="wait"/> while another
    /// holds it; past that, throws <see cref="FileLockBusyException"/> with <paramref name="busy"/> as its message.
    /// </summary>
    public static FileStream Acquire(string path, TimeSpan wait, string busy)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            if (TryOpen(path, busy, waited.Elapsed >= wait) is { } held)
            {
                return held;
            }

            Thread.Sleep(Poll);
        }
    }

    /// <summary>As <see cref="Acquire"/>, waiting without blocking a thread.</summary>
    public static async Task<FileStream> AcquireAsync(string path, TimeSpan wait, string busy, CancellationToken ct)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            if (TryOpen(path, busy, waited.Elapsed >= wait) is { } held)
            {
                return held;
            }

            await Task.Delay(Poll, ct).ConfigureAwait(false);
        }
    }

    private static FileStream? TryOpen(string path, string busy, bool lastTry)
    {
        try
        {
            return new FileStream(path, DurableFile.Options(FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException e) when (FileLockContention.IsContention(e))
        {
            return lastTry ? throw new FileLockBusyException(busy, e) : null;
        }
    }
}

/// <summary>Another process held a lock for longer than the caller would wait.</summary>
public sealed class FileLockBusyException : IOException
{
    /// <summary>Creates the exception naming the lock and its holder.</summary>
    public FileLockBusyException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception with no detail.</summary>
    public FileLockBusyException() { }

    /// <summary>Creates the exception with a message.</summary>
    public FileLockBusyException(string message) : base(message) { }
}
