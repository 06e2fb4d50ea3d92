using System.Runtime.InteropServices;

namespace Sios.Server.Access;

/// <summary>
/// Files only their owner may read or write (mode 0600 on Unix), written so that after a crash they hold either the
/// old or the new content in full, and so that once a write returns it survives a power loss.
/// </summary>
public static class PrivateFile
{
    // EEXIST is 17 on Linux and macOS alike.
    private const int ExistsErrno = 17;

    /// <summary>Replaces <paramref name="path"/> with <paramref name="content"/>: temporary file, fsync, rename, folder fsync.</summary>
    public static void Replace(string path, ReadOnlySpan<byte> content)
    {
        var (full, directory) = Locate(path);
        var temp = WriteTemporary(directory, full, content);
        try
        {
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }

        SyncDirectory(directory);
    }

    /// <summary>
    /// Creates <paramref name="path"/> with <paramref name="content"/> unless it exists (then returns false and leaves
    /// it alone). Readers never see the file partly written: it appears, complete, under its name at once.
    /// </summary>
    public static bool TryCreate(string path, ReadOnlySpan<byte> content)
    {
        var (full, directory) = Locate(path);
        if (File.Exists(full))
        {
            return false;
        }

        var temp = WriteTemporary(directory, full, content);
        try
        {
            if (!LinkNew(temp, full))
            {
                return false;
            }
        }
        finally
        {
            File.Delete(temp);
        }

        SyncDirectory(directory);
        return true;
    }

    /// <summary>Creates <paramref name="path"/> and any missing parents with mode 0700 on Unix.</summary>
    public static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    /// <summary>Options that create a file readable and writable by its owner only.</summary>
    internal static FileStreamOptions Options(FileMode mode, FileAccess access, FileShare share)
    {
        var options = new FileStreamOptions { Mode = mode, Access = access, Share = share };
        if (!OperatingSystem.IsWindows() && mode is FileMode.CreateNew or FileMode.Create or FileMode.OpenOrCreate)
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return options;
    }

    private static (string Full, string Directory) Locate(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        return (full, Path.GetDirectoryName(full)!);
    }

    private static string WriteTemporary(string directory, string full, ReadOnlySpan<byte> content)
    {
        var temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using var stream = new FileStream(temp, Options(FileMode.CreateNew, FileAccess.Write, FileShare.None));
            stream.Write(content);
            // The bytes are on disk before any name points at them, so a rename can never expose unwritten blocks.
            stream.Flush(flushToDisk: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }

        return temp;
    }

    /// <summary>
    /// Gives <paramref name="temp"/>'s file the name <paramref name="full"/> unless that name exists, atomically: .NET's
    /// File.Move without overwrite checks and renames in two steps on Unix, so two creators could both "win" there.
    /// </summary>
    private static bool LinkNew(string temp, string full)
    {
        if (OperatingSystem.IsWindows())
        {
            try
            {
                File.Move(temp, full, overwrite: false);
                return true;
            }
            catch (IOException) when (File.Exists(full))
            {
                return false;
            }
        }

        if (NativeMethods.Link(temp, full) == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno == ExistsErrno ? false : throw new IOException($"could not create {full} (errno {errno})");
    }

    /// <summary>
    /// rename(2) is atomic but lives in the folder's metadata: until the folder is synced a power loss may bring the
    /// old file back, and callers act on the new content (seal entries, hand out secrets) as soon as this returns.
    /// </summary>
    public static void SyncDirectory(string directory) => Brains.Registry.DirectorySync.Sync(directory);

    /// <summary>link(2), which .NET does not offer: it creates a name only if it does not exist, atomically.</summary>
    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "link", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Link([MarshalAs(UnmanagedType.LPUTF8Str)] string existing, [MarshalAs(UnmanagedType.LPUTF8Str)] string created);
    }
}
