using System.Globalization;
using System.Text;
using Sios.Tests.Shared;

namespace Sios.Cli.Tests;

/// <summary>
/// The console's in-browser folder audit (web/console/src/folder.js) and <c>sios verify log</c> (Sios.Verify's
/// LogAuditor) must agree on every exported log folder: a real export of more than two bundles (full and partial
/// bundles and tiles, a level-1 tile), and copies of it with one thing changed each. Neither is the other's oracle;
/// a disagreement is a bug in one of them.
/// </summary>
public sealed class ConsoleFolderVerifierTests(InitialisedLog log) : IClassFixture<InitialisedLog>
{
    private const int Width = 256;

    [ConsoleVerifierFact]
    public async Task The_browser_folder_verifier_and_sios_verify_log_agree_on_real_and_mutated_exports()
    {
        await NotesAsync(600, "exported");
        var root = Path.Combine(log.Root, "console-folders-" + Guid.NewGuid().ToString("N")[..8]);
        var genuine = Path.Combine(root, "genuine");
        var size = await ExportAsync(genuine);

        // Two full bundles and a partial one: tiles 0/000, 0/001, 0/002.p/W and the level-1 tile 1/000.p/2.
        Assert.InRange(size, 2L * Width + 1, 3L * Width - 1);
        var full = size / Width;
        var partialBundle = Tile("entries", full, size % Width);
        var partialTile = Tile("0", full, size % Width);
        var level1 = Tile("1", 0, full);
        foreach (var path in new[] { "checkpoint", Tile("entries", 0, Width), partialBundle, Tile("0", 1, Width), partialTile, level1 })
        {
            Assert.True(File.Exists(At(genuine, path)), $"the export has no {path}");
        }

        var folders = new List<string> { genuine };
        foreach (var (name, mutate) in Mutations(size, partialBundle, partialTile, level1))
        {
            var folder = Path.Combine(root, name);
            Copy(genuine, folder);
            mutate(folder);
            folders.Add(folder);
        }

        // A partial bundle and tile that are gone, with the full ones of a later export standing in (tlog-tiles allows it).
        await NotesAsync(Width, "later");
        var later = Path.Combine(root, "later-export");
        Assert.True(await ExportAsync(later) >= (full + 1) * Width);
        var fallback = Path.Combine(root, "full-tiles-for-partial-ones");
        Copy(later, fallback);
        File.Copy(At(genuine, "checkpoint"), At(fallback, "checkpoint"), overwrite: true);
        Directory.CreateDirectory(Path.GetDirectoryName(At(fallback, level1))!);
        File.Copy(At(genuine, level1), At(fallback, level1), overwrite: true);
        Assert.False(File.Exists(At(fallback, partialBundle)));
        folders.Add(fallback);

        var vkeys = Path.Combine(root, "vkeys");
        await File.WriteAllLinesAsync(vkeys, log.Vkeys);
        string[] vkeyArgs = [.. log.Vkeys.SelectMany(v => new[] { "--vkey", v })];
        var console = await ConsoleVerdicts.RunAsync(ConsoleVerifier.Folder!, "test/verify-folder.mjs", vkeys, folders);
        var accepted = await ConsoleVerdicts.AssertAgreeAsync(console, async folder =>
        {
            var run = await SiosProcess.RunAsync(["verify", "log", folder, .. vkeyArgs], passphrase: null);
            Assert.True(run.ExitCode is 0 or 1, $"{Path.GetFileName(folder)}: exit {run.ExitCode}: {run.Stderr}");
            return run.ExitCode == 0 ? null : run.Stderr.Trim();
        });

        Assert.True(console[genuine].Ok, console[genuine].Failed);
        Assert.True(console[fallback].Ok, console[fallback].Failed);
        Assert.Equal(3, accepted); // genuine, stray-files and the full tiles standing in for partial ones
    }

    /// <summary>Copies of the export with one thing changed each; only stray-files stays valid.</summary>
    private static IEnumerable<(string Name, Action<string> Mutate)> Mutations(long size, string partialBundle, string partialTile, string level1)
    {
        var bundle0 = Tile("entries", 0, Width);
        var bundle1 = Tile("entries", 1, Width);
        yield return ("stray-files", dir =>
        {
            // Files the checkpoint's size does not name are not read by either verifier.
            Write(At(dir, Tile("entries", 7, Width)), Encoding.UTF8.GetBytes("junk"));
            Write(At(dir, Tile("0", 2, 3)), new byte[96]);
        });
        yield return ("entry-flipped", dir => Flip(At(dir, bundle0), 40));
        yield return ("entry-flipped-in-partial-bundle", dir => Flip(At(dir, partialBundle), ^3));
        yield return ("tile-flipped", dir => Flip(At(dir, Tile("0", 1, Width)), 100));
        yield return ("partial-tile-flipped", dir => Flip(At(dir, partialTile), ^1));
        yield return ("level-1-tile-flipped", dir => Flip(At(dir, level1), 33));
        yield return ("bundle-removed", dir => File.Delete(At(dir, bundle1)));
        yield return ("partial-bundle-removed", dir => File.Delete(At(dir, partialBundle)));
        yield return ("tile-removed", dir => File.Delete(At(dir, Tile("0", 0, Width))));
        yield return ("level-1-tile-removed", dir => File.Delete(At(dir, level1)));
        yield return ("checkpoint-removed", dir => File.Delete(At(dir, "checkpoint")));
        yield return ("bundle-truncated", dir => Truncate(At(dir, bundle0), b => b.Length / 2));
        yield return ("partial-bundle-truncated", dir => Truncate(At(dir, partialBundle), b => b.Length - 1));
        yield return ("bundle-extended", dir => Write(At(dir, bundle1), [.. File.ReadAllBytes(At(dir, bundle1)), 0x00, 0x01, (byte)'x']));
        yield return ("tile-extended", dir => Write(At(dir, Tile("0", 0, Width)), [.. File.ReadAllBytes(At(dir, Tile("0", 0, Width))), .. new byte[32]]));
        yield return ("bundles-swapped", dir =>
        {
            var (first, second) = (File.ReadAllBytes(At(dir, bundle0)), File.ReadAllBytes(At(dir, bundle1)));
            Write(At(dir, bundle0), second);
            Write(At(dir, bundle1), first);
        });
        yield return ("size-changed", dir => EditCheckpoint(dir, lines => lines[1] = (size - 1).ToString(CultureInfo.InvariantCulture)));
        yield return ("size-grown", dir => EditCheckpoint(dir, lines => lines[1] = (size + 1).ToString(CultureInfo.InvariantCulture)));
        yield return ("signature-dropped", dir => EditCheckpoint(dir, lines => lines.RemoveAt(lines.Count - 2)));
        yield return ("checkpoint-unsigned", dir => EditCheckpoint(dir, lines => lines.RemoveRange(lines.IndexOf("") + 1, lines.Count - lines.IndexOf("") - 2)));
    }

    private async Task NotesAsync(int count, string text)
    {
        var lines = string.Concat(Enumerable.Range(0, count).Select(i => $"{text} {i} <script>alert(1)</script>\n"));
        var run = await SiosProcess.RunAsync(["log", "note", "--stdin", "--data", log.Data], stdin: Encoding.UTF8.GetBytes(lines));
        Assert.True(run.ExitCode == 0, run.Stderr);
    }

    /// <summary>Exports the log into <paramref name="folder"/>; returns the exported size.</summary>
    private async Task<long> ExportAsync(string folder)
    {
        var run = await SiosProcess.RunAsync(["log", "export", folder, "--data", log.Data], passphrase: null);
        Assert.True(run.ExitCode == 0, run.Stderr);
        return long.Parse(run.Out.Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>A tlog-tiles path for indices below 1000: tile/KIND/NNN, with .p/W when partial.</summary>
    private static string Tile(string kind, long index, long width)
    {
        var suffix = width == Width ? "" : ".p/" + width.ToString(CultureInfo.InvariantCulture);
        return "tile/" + kind + "/" + index.ToString("D3", CultureInfo.InvariantCulture) + suffix;
    }

    private static string At(string folder, string path) => Path.Combine(folder, path.Replace('/', Path.DirectorySeparatorChar));

    private static void Copy(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            Write(Path.Combine(to, Path.GetRelativePath(from, file)), File.ReadAllBytes(file));
        }
    }

    private static void Write(string file, byte[] bytes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllBytes(file, bytes);
    }

    private static void Flip(string file, Index at)
    {
        var bytes = File.ReadAllBytes(file);
        bytes[at] ^= 0x01;
        File.WriteAllBytes(file, bytes);
    }

    private static void Truncate(string file, Func<byte[], int> length)
    {
        var bytes = File.ReadAllBytes(file);
        File.WriteAllBytes(file, bytes[..length(bytes)]);
    }

    /// <summary>Edits the checkpoint note line by line (its text, the blank line, the signature lines, a final empty string).</summary>
    private static void EditCheckpoint(string folder, Action<List<string>> edit)
    {
        var file = At(folder, "checkpoint");
        var lines = File.ReadAllText(file, Encoding.UTF8).Split('\n').ToList();
        edit(lines);
        File.WriteAllText(file, string.Join('\n', lines), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
    }
}
