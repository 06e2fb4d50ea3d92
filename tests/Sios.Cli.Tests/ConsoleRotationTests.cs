using System.Globalization;
using Sios.Tests.Shared;

namespace Sios.Cli.Tests;

/// <summary>
/// The console follows the log's signer rotations itself (web/console/src/rotations.js): from the keys an auditor
/// trusts, through each rotation statement signed by the retiring and the new keys, to the keys that sign now. It must
/// agree with <c>sios verify receipt --vkey ORIGINAL --rotation …</c> on a receipt signed by the current keys, for the
/// genuine statements and for altered, missing, reordered and foreign ones.
/// </summary>
public sealed class ConsoleRotationTests(InitialisedLog log) : IClassFixture<InitialisedLog>
{
    [ConsoleVerifierFact]
    public async Task The_console_and_sios_verify_agree_on_which_rotation_statements_lead_to_the_current_keys()
    {
        var root = Path.Combine(log.Root, "rotations");
        foreach (var step in new[] { "first", "second" })
        {
            Assert.Equal(0, (await SiosProcess.RunAsync(["log", "note", $"before the {step} rotation", "--data", log.Data])).ExitCode);
            var rotated = await SiosProcess.RunAsync(["key", "rotate-signer", "--data", log.Data]);
            Assert.True(rotated.ExitCode == 0, rotated.Stderr);
        }

        var note = await SiosProcess.RunAsync(["log", "note", "after both rotations", "--data", log.Data]);
        Assert.True(note.ExitCode == 0, note.Stderr);
        var receipt = Path.Combine(root, "current.tlog-proof");
        Directory.CreateDirectory(root);
        await File.WriteAllBytesAsync(receipt, (await SiosProcess.RunAsync(["log", "receipt", note.Out.Trim(), "--data", log.Data], passphrase: null)).Stdout);

        var genuine = Path.Combine(root, "genuine");
        var published = await SiosProcess.RunAsync(["key", "export-public", "--out", genuine, "--data", log.Data], passphrase: null);
        Assert.True(published.ExitCode == 0, published.Stderr);
        Assert.True(File.Exists(Path.Combine(genuine, "rotation-2.tlog-proof")));

        // Another log's rotation, to stand in for one of ours.
        var other = Path.Combine(root, "other-log");
        Assert.Equal(0, (await SiosProcess.RunAsync(["init", "--origin", InitialisedLog.Origin, "--data", other])).ExitCode);
        Assert.Equal(0, (await SiosProcess.RunAsync(["key", "rotate-signer", "--data", other])).ExitCode);
        var foreign = Path.Combine(root, "other-export");
        Assert.Equal(0, (await SiosProcess.RunAsync(["key", "export-public", "--out", foreign, "--data", other], passphrase: null)).ExitCode);

        var variants = new List<string> { genuine };
        void Variant(string name, Action<string> change)
        {
            var dir = Path.Combine(root, name);
            Directory.CreateDirectory(dir);
            foreach (var file in Directory.GetFiles(genuine, "rotation-*.tlog-proof"))
            {
                File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
            }

            change(dir);
            variants.Add(dir);
        }

        Variant("second-missing", dir => File.Delete(Path.Combine(dir, "rotation-2.tlog-proof")));
        Variant("first-missing", dir => File.Delete(Path.Combine(dir, "rotation-1.tlog-proof")));
        Variant("swapped", dir =>
        {
            File.Move(Path.Combine(dir, "rotation-1.tlog-proof"), Path.Combine(dir, "x"));
            File.Move(Path.Combine(dir, "rotation-2.tlog-proof"), Path.Combine(dir, "rotation-1.tlog-proof"));
            File.Move(Path.Combine(dir, "x"), Path.Combine(dir, "rotation-2.tlog-proof"));
        });
        Variant("foreign-first", dir => File.Copy(Path.Combine(foreign, "rotation-1.tlog-proof"), Path.Combine(dir, "rotation-1.tlog-proof"), overwrite: true));
        for (var line = 0; line < 6; line++)
        {
            var at = line;
            Variant($"second-line-{at}-altered", dir => Alter(Path.Combine(dir, "rotation-2.tlog-proof"), at));
        }

        var original = Path.Combine(genuine, "original-vkeys.txt");
        var keys = Path.Combine(root, "keys.txt");
        await File.WriteAllTextAsync(keys, await File.ReadAllTextAsync(original) + "# current\n" + await File.ReadAllTextAsync(Path.Combine(genuine, "vkeys.txt")));
        var console = await ConsoleVerdicts.RunAsync(ConsoleVerifier.Folder!, "test/verify-rotations.mjs", keys, variants);
        string[] trust = [.. (await File.ReadAllLinesAsync(original)).Where(l => l.Length > 0).SelectMany(v => new[] { "--vkey", v })];
        var accepted = await ConsoleVerdicts.AssertAgreeAsync(console, async dir =>
        {
            string[] rotations = [.. Directory.GetFiles(dir, "rotation-*.tlog-proof").Order(StringComparer.Ordinal).SelectMany(f => new[] { "--rotation", f })];
            var run = await SiosProcess.RunAsync(["verify", "receipt", receipt, .. trust, .. rotations], passphrase: null);
            return run.ExitCode == 0 ? null : run.Stderr.Trim();
        });
        Assert.True(console[genuine].Ok, console[genuine].Failed);
        Assert.Equal(1, accepted);
    }

    // Changes one character in the given line of a statement (the origin, index, a proof hash, the checkpoint…).
    private static void Alter(string file, int line)
    {
        var lines = File.ReadAllText(file).Split('\n');
        var filled = Enumerable.Range(0, lines.Length).Where(i => lines[i].Length > 1).ToList();
        var target = filled[Math.Min(line * 3, filled.Count - 1)];
        var text = lines[target];
        var at = text.Length / 2;
        lines[target] = text[..at] + (text[at] == 'A' ? 'B' : 'A') + text[(at + 1)..];
        File.WriteAllText(file, string.Join('\n', lines));
    }
}
