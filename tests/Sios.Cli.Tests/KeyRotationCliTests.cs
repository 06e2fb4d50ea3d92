using System.Text;

namespace Sios.Cli.Tests;

/// <summary><c>sios key rotate-signer | export-public</c> end to end, including rotations cut short at each crash point.</summary>
public sealed class KeyRotationCliTests : IDisposable
{
    private const string Origin = "rotation.sios.local/log";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "sios-rot-" + Guid.NewGuid().ToString("N"));

    private string Data => Path.Combine(_root, "data");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private async Task<SiosRun> OkAsync(params string[] args)
    {
        var run = await SiosProcess.RunAsync([.. args, "--data", Data]);
        Assert.True(run.ExitCode == 0, $"{string.Join(' ', args)}: exit {run.ExitCode}: {run.Stderr}");
        return run;
    }

    private static string[] Lines(SiosRun run) => run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private async Task<string[]> InitAsync()
    {
        Directory.CreateDirectory(_root);
        var init = await SiosProcess.RunAsync(["init", "--origin", Origin, "--data", Data]);
        Assert.True(init.ExitCode == 0, init.Stderr);
        return Lines(init);
    }

    private async Task<string> SaveAsync(string name, byte[] bytes)
    {
        var path = Path.Combine(_root, name);
        await File.WriteAllBytesAsync(path, bytes);
        return path;
    }

    private static async Task<SiosRun> VerifyReceiptAsync(string receipt, string[] vkeys, params string[] rotations) =>
        await SiosProcess.RunAsync(["verify", "receipt", receipt, .. vkeys.SelectMany(v => new[] { "--vkey", v }), .. rotations.SelectMany(r => new[] { "--rotation", r })], passphrase: null);

    private static int SignatureLines(byte[] noteOrProof) =>
        Encoding.UTF8.GetString(noteOrProof).Split('\n').Count(l => l.StartsWith("\u2014 ", StringComparison.Ordinal));

    private async Task<string[]> ExportAsync(string name)
    {
        var dir = Path.Combine(_root, name);
        await OkAsync("key", "export-public", "--out", dir);
        return Directory.GetFiles(dir, "rotation-*.tlog-proof").Order(StringComparer.Ordinal).ToArray();
    }

    [Fact]
    public async Task Receipts_from_before_and_after_a_rotation_verify_from_the_original_vkeys_plus_the_statement()
    {
        var original = await InitAsync();
        await OkAsync("log", "note", "before the rotation");
        var before = await SaveAsync("before.tlog-proof", (await OkAsync("log", "receipt", "0")).Stdout);
        var next = Lines(await OkAsync("key", "rotate-signer"));
        Assert.Equal(2, next.Length);
        Assert.Empty(next.Intersect(original));
        Assert.Equal(next, Lines(await OkAsync("key", "vkeys")));
        Assert.True(File.Exists(Path.Combine(Data, "keys", "retired", "1", "log-ml-dsa-65.pem")), "the retired keys are kept");
        await OkAsync("log", "note", "after the rotation");
        var after = await SaveAsync("after.tlog-proof", (await OkAsync("log", "receipt", "2")).Stdout);

        var statements = await ExportAsync("public");
        var statement = Assert.Single(statements);
        Assert.Equal(original, await File.ReadAllLinesAsync(Path.Combine(_root, "public", "original-vkeys.txt")));
        Assert.Equal(next, await File.ReadAllLinesAsync(Path.Combine(_root, "public", "vkeys.txt")));
        Assert.True(File.Exists(Path.Combine(_root, "public", "retired", "1", "log-ml-dsa-44.pub.pem")));

        // The checkpoint sealing signer.rotated carries old 65, old 44, new 65, new 44; the one after only the new two.
        Assert.Equal(4, SignatureLines(await File.ReadAllBytesAsync(statement)));
        Assert.Equal(2, SignatureLines((await OkAsync("log", "checkpoint")).Stdout));
        Assert.Equal(2, SignatureLines(await File.ReadAllBytesAsync(after)));

        Assert.Equal(0, (await VerifyReceiptAsync(before, original, statement)).ExitCode);
        var verifiedAfter = await VerifyReceiptAsync(after, original, statement);
        Assert.True(verifiedAfter.ExitCode == 0, verifiedAfter.Stderr);
        Assert.Contains("after the rotation", verifiedAfter.Out, StringComparison.Ordinal);
        Assert.Equal(0, (await VerifyReceiptAsync(before, original)).ExitCode);
        var unchained = await VerifyReceiptAsync(after, original);
        Assert.Equal(1, unchained.ExitCode);
        Assert.Contains("not signed by", unchained.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, (await VerifyReceiptAsync(after, next)).ExitCode);

        var audit = await OkAsync("log", "verify");
        Assert.Contains("\"intact\":true", audit.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_forged_or_foreign_statement_is_refused()
    {
        var original = await InitAsync();
        await OkAsync("log", "note", "entry zero");
        var plain = await SaveAsync("plain.tlog-proof", (await OkAsync("log", "receipt", "0")).Stdout);
        await OkAsync("key", "rotate-signer");
        var after = await SaveAsync("after.tlog-proof", (await OkAsync("log", "receipt", "1")).Stdout);
        var genuine = Assert.Single(await ExportAsync("public"));

        // Another log with the same origin rotated too: its statement is not signed by this log's keys.
        var otherData = Path.Combine(_root, "other");
        Assert.Equal(0, (await SiosProcess.RunAsync(["init", "--origin", Origin, "--data", otherData])).ExitCode);
        Assert.Equal(0, (await SiosProcess.RunAsync(["key", "rotate-signer", "--data", otherData])).ExitCode);
        var otherDir = Path.Combine(_root, "other-public");
        Assert.Equal(0, (await SiosProcess.RunAsync(["key", "export-public", "--data", otherData, "--out", otherDir])).ExitCode);
        var foreign = Directory.GetFiles(otherDir, "rotation-*.tlog-proof").Single();

        var refusedForeign = await VerifyReceiptAsync(after, original, foreign);
        Assert.Equal(1, refusedForeign.ExitCode);
        Assert.Contains("refused", refusedForeign.Stderr, StringComparison.Ordinal);

        // A receipt of an ordinary entry is no rotation statement.
        Assert.Equal(1, (await VerifyReceiptAsync(after, original, plain)).ExitCode);

        // Flipping one byte of the entry inside the genuine statement breaks its inclusion.
        var text = await File.ReadAllTextAsync(genuine);
        var lines = text.Split('\n');
        var extra = Convert.FromBase64String(lines[1]["extra ".Length..]);
        extra[^3] ^= 1;
        lines[1] = "extra " + Convert.ToBase64String(extra);
        var tampered = await SaveAsync("tampered.tlog-proof", Encoding.UTF8.GetBytes(string.Join('\n', lines)));
        Assert.Equal(1, (await VerifyReceiptAsync(after, original, tampered)).ExitCode);

        // The genuine statement given twice is a replay, not a second rotation.
        Assert.Equal(1, (await VerifyReceiptAsync(after, original, genuine, genuine)).ExitCode);
        Assert.Equal(0, (await VerifyReceiptAsync(after, original, genuine)).ExitCode);
    }

    [Theory]
    [InlineData("rotate:staged", false)]
    [InlineData("rotate:sealed", true)]
    [InlineData("rotate:moved-one", true)]
    public async Task A_rotation_cut_short_is_finished_or_undone_by_the_next_command_and_the_log_verifies(string point, bool takesEffect)
    {
        var original = await InitAsync();
        await OkAsync("log", "note", "before");
        var crashed = await SiosProcess.RunAsync(["key", "rotate-signer", "--data", Data], SiosProcess.Passphrase, null, ("SIOS_FAULT_EXIT_AT", point));
        Assert.True(crashed.ExitCode == 86, $"expected the fault exit at {point}: {crashed.ExitCode} {crashed.Stderr}");

        await OkAsync("log", "note", "after the crash");
        var vkeys = Lines(await OkAsync("key", "vkeys"));
        Assert.Equal(takesEffect, !vkeys.SequenceEqual(original));
        Assert.False(Directory.Exists(Path.Combine(Data, "keys", "rotation")));
        Assert.Equal(takesEffect, Directory.Exists(Path.Combine(Data, "keys", "retired", "1")));
        Assert.Equal(takesEffect ? 1 : 0, (await ExportAsync("public-1")).Length);
        Assert.Contains("\"intact\":true", (await OkAsync("log", "verify")).Out, StringComparison.Ordinal);
        if (point != "rotate:moved-one")
        {
            return;
        }

        // A second, complete rotation chains on: receipts verify from the original vkeys through every statement.
        await OkAsync("key", "rotate-signer");
        await OkAsync("log", "note", "last");
        var statements = await ExportAsync("public-2");
        Assert.Equal(2, statements.Length);
        Assert.Contains("\"intact\":true", (await OkAsync("log", "verify")).Out, StringComparison.Ordinal);
        var size = long.Parse(Lines(await OkAsync("log", "checkpoint"))[1], System.Globalization.CultureInfo.InvariantCulture);
        var last = await SaveAsync("last.tlog-proof", (await OkAsync("log", "receipt", (size - 1).ToString(System.Globalization.CultureInfo.InvariantCulture))).Stdout);
        var verified = await VerifyReceiptAsync(last, original, statements);
        Assert.True(verified.ExitCode == 0, verified.Stderr);
        Assert.Equal(1, (await VerifyReceiptAsync(last, original, statements[^1])).ExitCode);
    }
}
