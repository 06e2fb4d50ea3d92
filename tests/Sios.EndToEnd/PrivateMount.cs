using System.Diagnostics;
using System.Globalization;

namespace Sios.EndToEnd;

/// <summary>
/// A small real filesystem mounted over one folder inside a private mount namespace, so the host never sees it and it
/// vanishes with its holder process (a <c>sleep infinity</c> that keeps the namespace alive). Everything that must see
/// the mount runs through <see cref="Launcher"/> (<c>nsenter --target HOLDER --mount --</c>, which execs, so a server
/// started behind it keeps its own PID). Two kinds: tmpfs, to fill; ext4 on a loop device mounted
/// <c>errors=remount-ro</c>, whose <c>trigger_fs_error</c> knob turns it read-only under open files, as a failing disk
/// does (a plain <c>mount -o remount,ro</c> is refused with EBUSY while SQLite holds its files open for writing).
/// </summary>
internal sealed class PrivateMount : IAsyncDisposable
{
    private readonly Process _holder;

    private PrivateMount(Process holder, string folder, string? image)
    {
        _holder = holder;
        Folder = folder;
        Image = image;
    }

    /// <summary>The folder the filesystem is mounted over (inside the namespace only).</summary>
    public string Folder { get; }

    /// <summary>The ext4 image file, or null for tmpfs.</summary>
    public string? Image { get; }

    /// <summary>The command prefix that runs its command inside the namespace.</summary>
    public IReadOnlyList<string> Launcher =>
        ["nsenter", "--target", _holder.Id.ToString(CultureInfo.InvariantCulture), "--mount", "--"];

    /// <summary>Why no private mount can be made here (not root, no unshare), or null when tmpfs mounts work.</summary>
    public static string? TmpfsUnavailable => TmpfsProbe.Value;

    /// <summary>Why no ext4 loop mount with <c>trigger_fs_error</c> can be made here, or null when it works.</summary>
    public static string? Ext4Unavailable => Ext4Probe.Value;

    private static readonly Lazy<string?> TmpfsProbe = new(() => Probe("tmpfs"));

    private static readonly Lazy<string?> Ext4Probe = new(() => TmpfsProbe.Value ?? Probe("ext4"));

    /// <summary>Mounts a tmpfs of <paramref name="bytes"/> over <paramref name="folder"/>.</summary>
    public static Task<PrivateMount> TmpfsAsync(string folder, long bytes) =>
        StartAsync(folder, null, $"mount -t tmpfs -o size={bytes} tmpfs '{folder}'");

    /// <summary>Makes an ext4 image of <paramref name="bytes"/> at <paramref name="image"/> and mounts it over <paramref name="folder"/>.</summary>
    public static async Task<PrivateMount> Ext4Async(string folder, string image, long bytes)
    {
        var mkfs = await ExecAsync(["sh", "-c", $"truncate -s {bytes} '{image}' && mkfs.ext4 -q -F -O ^has_journal -b 1024 -m 0 '{image}'"]);
        Assert.True(mkfs.ExitCode == 0, "mkfs.ext4 failed: " + mkfs.Err);
        return await StartAsync(folder, image, Ext4MountCommand(image, folder));
    }

    /// <summary>Runs <paramref name="argv"/> inside the namespace.</summary>
    public Task<(int ExitCode, string Out, string Err)> RunAsync(params string[] argv) => ExecAsync([.. Launcher, .. argv]);

    /// <summary>Runs a shell command inside the namespace and insists that it succeeds.</summary>
    public async Task<string> ShAsync(string script)
    {
        var result = await RunAsync("sh", "-c", script);
        Assert.True(result.ExitCode == 0, $"'{script}' failed ({result.ExitCode}): {result.Err}");
        return result.Out;
    }

    /// <summary>Fills the filesystem to the last block; returns what dd said (it must be ENOSPC).</summary>
    public async Task<string> FillAsync()
    {
        var dd = await RunAsync("dd", "if=/dev/zero", $"of={Path.Combine(Folder, "filler")}", "bs=4k");
        Assert.Contains("No space left on device", dd.Err, StringComparison.Ordinal);
        return dd.Err;
    }

    /// <summary>Frees what <see cref="FillAsync"/> took.</summary>
    public Task FreeAsync() => ShAsync($"rm -f '{Path.Combine(Folder, "filler")}'");

    /// <summary>Turns the ext4 filesystem read-only under the open files, as the kernel does on a disk error.</summary>
    public async Task FailReadOnlyAsync()
    {
        var device = (await ShAsync($"findmnt -n -o SOURCE '{Folder}'")).Trim();
        await ShAsync($"echo sios-storage-test > /sys/fs/ext4/{Path.GetFileName(device)}/trigger_fs_error");
        var write = await RunAsync("touch", Path.Combine(Folder, "probe"));
        Assert.Contains("Read-only file system", write.Err, StringComparison.Ordinal);
    }

    /// <summary>What an operator does after a read-only remount: unmount, fsck, mount again (nothing may hold it open).</summary>
    public async Task RepairAsync()
    {
        await ShAsync($"umount '{Folder}'");
        var fsck = await RunAsync("e2fsck", "-fy", Image!);
        Assert.True(fsck.ExitCode is 0 or 1, $"e2fsck could not repair the image ({fsck.ExitCode}): {fsck.Out} {fsck.Err}");
        await ShAsync(Ext4MountCommand(Image!, Folder));
    }

    /// <summary>Kills the holder: the namespace, the mount and (with autoclear) the loop device go with it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_holder.HasExited)
        {
            _holder.Kill();
            await _holder.WaitForExitAsync();
        }

        _holder.Dispose();
    }

    private static string Ext4MountCommand(string image, string folder) => $"mount -o loop,errors=remount-ro '{image}' '{folder}'";

    private static async Task<PrivateMount> StartAsync(string folder, string? image, string mount)
    {
        var info = new ProcessStartInfo("unshare") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var word in (string[])["--mount", "--propagation", "private", "--", "sh", "-c", $"{mount} && echo ready && exec sleep infinity"])
        {
            info.ArgumentList.Add(word);
        }

        var holder = Process.Start(info)!;
        var mounted = new PrivateMount(holder, folder, image);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var line = await holder.StandardOutput.ReadLineAsync(timeout.Token);
        if (line != "ready")
        {
            await mounted.DisposeAsync();
            Assert.Fail($"could not mount over {folder}: {await holder.StandardError.ReadToEndAsync(CancellationToken.None)}");
        }

        return mounted;
    }

    private static async Task<(int ExitCode, string Out, string Err)> ExecAsync(IReadOnlyList<string> argv)
    {
        var info = new ProcessStartInfo(argv[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var word in argv.Skip(1))
        {
            info.ArgumentList.Add(word);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    // One real attempt, so a skip states what actually failed (no root, no unshare, no loop devices, no ext4 knob).
    private static string? Probe(string kind)
    {
        if (!OperatingSystem.IsLinux())
        {
            return "private mount namespaces are Linux only";
        }

        var dir = Directory.CreateTempSubdirectory("sios-mount-probe-").FullName;
        try
        {
            var script = kind == "tmpfs"
                ? $"mount -t tmpfs -o size=65536 tmpfs '{dir}/m' && touch '{dir}/m/f'"
                : $"truncate -s 4M '{dir}/i' && mkfs.ext4 -q -F -O ^has_journal -b 1024 '{dir}/i' && {Ext4MountCommand($"{dir}/i", $"{dir}/m")} " +
                  $"&& test -w /sys/fs/ext4/$(basename $(findmnt -n -o SOURCE '{dir}/m'))/trigger_fs_error && command -v e2fsck";
            Directory.CreateDirectory(Path.Combine(dir, "m"));
            var result = ExecAsync(["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script]).GetAwaiter().GetResult();
            return result.ExitCode == 0
                ? null
                : $"a private {kind} mount could not be made here (needs root with CAP_SYS_ADMIN, unshare{(kind == "ext4" ? ", loop devices, mkfs.ext4/e2fsck and /sys/fs/ext4/*/trigger_fs_error" : "")}): {result.Err.Trim()}";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"a private {kind} mount could not be made here: {e.Message}";
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

/// <summary>A fact skipped, with the reason, where no private tmpfs mount can be made (not root, no unshare).</summary>
internal sealed class TmpfsFactAttribute : FactAttribute
{
    public TmpfsFactAttribute()
    {
        if (PrivateMount.TmpfsUnavailable is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>A fact skipped, with the reason, where no private ext4 loop mount that can be failed read-only can be made.</summary>
internal sealed class Ext4FactAttribute : FactAttribute
{
    public Ext4FactAttribute()
    {
        if (PrivateMount.Ext4Unavailable is { } reason)
        {
            Skip = reason;
        }
    }
}
