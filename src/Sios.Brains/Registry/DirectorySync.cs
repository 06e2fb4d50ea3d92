using System.Runtime.InteropServices;

namespace Sios.Brains.Registry;

/// <summary>fsync of a folder: what makes a rename(2) into it survive a power loss.</summary>
public static partial class DirectorySync
{
    /// <summary>
    /// Syncs <paramref name="directory"/>'s metadata. rename(2) is atomic but lives in the folder: until the folder is
    /// synced a power loss may bring the old file back, and callers act on the new content as soon as this returns.
    /// </summary>
    /// <exception cref="IOException">The folder could not be opened or synced (errno in the message).</exception>
    public static void Sync(string directory)
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

    /// <summary>The three libc calls .NET offers no managed way to make on a directory.</summary>
    private static partial class NativeMethods
    {
        [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        public static partial int Open(string path, int flags);

        [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
        public static partial int FSync(int fd);

        [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
        public static partial int Close(int fd);
    }
}
