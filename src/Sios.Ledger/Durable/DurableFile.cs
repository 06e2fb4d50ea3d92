using System.Runtime.InteropServices;

namespace Sios.Ledger.Durable;

/// <summary>
/// The one way SIOS writes a file it must not lose or tear: only its owner may read or write it (mode 0600 on Unix,
/// folders 0700), after a crash it holds either the old or the new content in full, and once a write returns it survives
/// a power loss (file fsync, atomic rename or link, folder fsync). Key files, state files, vault blobs, notes and
/// disclosures all go through here.
/// </summary>
public static partial class DurableFile
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
    /// Replaces <paramref name="path"/> whole (temporary file, rename) without any fsync: after a crash it holds the old or
    /// the new content, never a torn one, but a power cut may bring the old one back. For records that may lag behind
    /// and are written on a path that must not wait for the disk (the rollback guard, on the log's sequencer).
    /// </summary>
    public static void ReplaceLazily(string path, ReadOnlySpan<byte> content)
    {
        var (full, directory) = Locate(path);
        var temp = WriteTemporary(directory, full, content, sync: false);
        try
        {
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
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

    /// <summary>
    /// Gives the finished file <paramref name="written"/> (in the same folder) the name <paramref name="path"/> unless
    /// that name exists (then returns false and leaves both alone): its bytes are synced first, and the name appears,
    /// complete, at once and durably; <paramref name="written"/>'s own name is removed.
    /// </summary>
    public static bool TryPublish(string written, string path)
    {
        var (full, directory) = Locate(path);
        using (var file = new FileStream(written, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
        {
            file.Flush(flushToDisk: true);
        }

        if (!LinkNew(written, full))
        {
            return false;
        }

        File.Delete(written);
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
    public static FileStreamOptions Options(FileMode mode, FileAccess access, FileShare share)
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

    private static string WriteTemporary(string directory, string full, ReadOnlySpan<byte> content, bool sync = true)
    {
        var temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using var stream = new FileStream(temp, Options(FileMode.CreateNew, FileAccess.Write, FileShare.None));
            stream.Write(content);
            // The bytes are on disk before any name points at them, so a rename can never expose unwritten blocks.
            stream.Flush(flushToDisk: sync);
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
    public static void SyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            // Windows has no directory fsync; there the rename is as durable as NTFS's metadata journal makes it.
            return;
        }

        var fd = NativeMethods.Open(directory, 0);
        if (fd < 0)
        {
            throw new IOException($"could not open {directory} to sync it (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            if (NativeMethods.FSync(fd) != 0)
            {
                throw new IOException($"could not sync {directory} (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = NativeMethods.Close(fd);
        }
    }

    /// <summary>link(2), which .NET does not offer: it creates a name only if it does not exist, atomically.</summary>
    private static partial class NativeMethods
    {
        [DllImport("libc", EntryPoint = "link", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Link([MarshalAs(UnmanagedType.LPUTF8Str)] string existing, [MarshalAs(UnmanagedType.LPUTF8Str)] string created);

        [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        public static partial int Open(string path, int flags);

        [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
        public static partial int FSync(int fd);

        [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
        public static partial int Close(int fd);
    }
}
