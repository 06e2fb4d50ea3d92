namespace Sios.Ledger.Storage;

/// <summary>
/// Tells a lock file held by another handle apart from every other failure to open it. On Linux and macOS .NET takes
/// <see cref="FileShare.None"/> with <c>flock(LOCK_EX | LOCK_NB)</c>, so only EWOULDBLOCK means "someone holds it";
/// a read-only or full filesystem, a missing folder or a permission problem is a different failure and must not be
/// reported as another process at work.
/// </summary>
public static class FileLockContention
{
    // errno EWOULDBLOCK on Linux (11) and macOS (35); Windows reports ERROR_SHARING_VIOLATION / ERROR_LOCK_VIOLATION.
    private const int LinuxWouldBlock = 11;
    private const int MacWouldBlock = 35;
    private const int WindowsSharingViolation = unchecked((int)0x80070020);
    private const int WindowsLockViolation = unchecked((int)0x80070021);

    /// <summary>True when opening a lock file with <see cref="FileShare.None"/> failed only because another handle holds it.</summary>
    public static bool IsContention(IOException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception.GetType() == typeof(IOException)
            && (OperatingSystem.IsWindows()
                ? exception.HResult is WindowsSharingViolation or WindowsLockViolation
                : exception.HResult == (OperatingSystem.IsMacOS() ? MacWouldBlock : LinuxWouldBlock));
    }
}
