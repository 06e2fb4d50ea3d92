namespace Sios.Brains.Registry;

/// <summary>
/// Replaces a file so that after a crash it holds either the old or the new content in full, and (on Unix) once
/// <see cref="Write"/> returns the new content survives a power loss.
/// </summary>
internal static class AtomicFile
{
    /// <summary>Writes <paramref name="content"/> to a temporary file beside <paramref name="path"/>, fsyncs it, renames it over <paramref name="path"/>, and fsyncs the folder.</summary>
    public static void Write(string path, ReadOnlySpan<byte> content)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        var temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var stream = new FileStream(temp, options))
            {
                stream.Write(content);
                // Durability point 1: the new bytes are on disk before any name points at them, so the rename can
                // never expose a file whose blocks were not yet written.
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }

        // Durability point 2: rename(2) is atomic but lives in the folder's metadata; until the folder is synced a
        // power loss may bring the old file back. Callers seal log entries after this returns, so it must not.
        DirectorySync.Sync(directory);
    }
}
