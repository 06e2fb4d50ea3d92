using System.Text;

namespace Sios.Node.Sovereignty;

/// <summary>Where a file physically resides: its full path, and the mount it lives on.</summary>
/// <param name="Path">The full path, with the final symbolic link resolved.</param>
/// <param name="Exists">Whether the file exists.</param>
/// <param name="Device">The filesystem's device number (st_dev) as MAJOR:MINOR, or null where unknown.</param>
/// <param name="MountPoint">The mount point holding the file, or null where unknown.</param>
/// <param name="FileSystem">The filesystem type (ext4, xfs, tmpfs, overlay, nfs ...), or null where unknown.</param>
/// <param name="Source">The mounted source (a block device such as /dev/nvme0n1p2, or a network share), or null.</param>
internal sealed record StorageLocation(string Path, bool Exists, string? Device, string? MountPoint, string? FileSystem, string? Source);

/// <summary>
/// Finds the mount holding a path from <c>/proc/self/mountinfo</c> (Linux): the longest mount point that prefixes the
/// path. Its MAJOR:MINOR is the st_dev every file on that mount reports. Elsewhere the device fields stay null.
/// </summary>
internal static class MountTable
{
    private const string MountInfo = "/proc/self/mountinfo";

    private sealed record Mount(string Device, string Point, string FileSystem, string Source);

    /// <summary>The location of <paramref name="path"/>.</summary>
    public static StorageLocation Locate(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        var exists = File.Exists(full) || Directory.Exists(full);
        if (exists && new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true) is { } target)
        {
            full = target.FullName;
        }

        var mount = Mounts()
            .Where(m => IsUnder(full, m.Point))
            .OrderByDescending(m => m.Point.Length)
            .FirstOrDefault();
        return new StorageLocation(full, exists, mount?.Device, mount?.Point, mount?.FileSystem, mount?.Source);
    }

    private static bool IsUnder(string path, string point) =>
        point == "/" || path == point || path.StartsWith(point + "/", StringComparison.Ordinal);

    private static List<Mount> Mounts()
    {
        var mounts = new List<Mount>();
        if (!OperatingSystem.IsLinux() || !File.Exists(MountInfo))
        {
            return mounts;
        }

        // Format (proc(5)): ID PARENT MAJOR:MINOR ROOT MOUNT-POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER-OPTIONS.
        foreach (var line in File.ReadLines(MountInfo))
        {
            var fields = line.Split(' ');
            var dash = Array.IndexOf(fields, "-");
            if (fields.Length < 6 || dash < 6 || dash + 2 >= fields.Length)
            {
                continue;
            }

            mounts.Add(new Mount(fields[2], Unescape(fields[4]), Unescape(fields[dash + 1]), Unescape(fields[dash + 2])));
        }

        return mounts;
    }

    // The kernel writes space, tab, newline and backslash in mount fields as three-digit octal escapes.
    private static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }

        var sb = new StringBuilder(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length && IsOctal(field[i + 1]) && IsOctal(field[i + 2]) && IsOctal(field[i + 3]))
            {
                sb.Append((char)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                sb.Append(field[i]);
            }
        }

        return sb.ToString();
    }

    private static bool IsOctal(char c) => c is >= '0' and <= '7';
}
