using System.Globalization;
using System.Text;
using Sios.Ledger.Sqlite;
using Sios.Verify.Notes;

namespace Sios.Cli.Tests;

/// <summary>The optional Ed25519 log key end to end: <c>init --ed25519</c>, <c>key add-ed25519</c>, and what verifiers make of its line.</summary>
public sealed class Ed25519CliTests : IDisposable
{
    private const string Origin = "ed25519.sios.local/log";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "sios-ed-" + Guid.NewGuid().ToString("N"));

    public Ed25519CliTests() => Directory.CreateDirectory(_root);

    private string Data => Path.Combine(_root, "data");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private async Task<SiosRun> OkAsync(params string[] args)
    {
        var run = await SiosProcess.RunAsync([.. args, "--data", Data]);
        Assert.True(run.ExitCode == 0, $"{string.Join(' ', args)}: exit {run.ExitCode}: {run.Stderr}");
        return run;
    }

    private static string[] Lines(SiosRun run) => run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private static List<NoteSignature> Signatures(byte[] note) => [.. SignedNote.Parse(note).Signatures];

    private async Task<string> ReceiptAsync(long index)
    {
        var path = Path.Combine(_root, $"r{index}.tlog-proof");
        await File.WriteAllBytesAsync(path, (await OkAsync("log", "receipt", index.ToString(CultureInfo.InvariantCulture))).Stdout);
        return path;
    }

    private static Task<SiosRun> VerifyAsync(string receipt, IEnumerable<string> vkeys, params string[] more) =>
        SiosProcess.RunAsync(["verify", "receipt", receipt, .. vkeys.SelectMany(v => new[] { "--vkey", v }), .. more], passphrase: null);

    [Fact]
    public async Task Init_with_ed25519_signs_three_lines_and_verifiers_require_the_post_quantum_ones()
    {
        var vkeys = Lines(await OkAsync("init", "--origin", Origin, "--ed25519")).Select(VerifierKey.Parse).ToList();
        Assert.Equal([NoteKeyKind.MlDsa65, NoteKeyKind.MlDsa44Cosignature, NoteKeyKind.Ed25519], vkeys.Select(k => k.Kind));
        Assert.Equal(vkeys.Select(k => k.ToString()), Lines(await OkAsync("key", "vkeys")));
        Assert.True(File.Exists(Path.Combine(Data, "keys", "log-ed25519.pem")));
        Assert.StartsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----", await File.ReadAllTextAsync(Path.Combine(Data, "keys", "log-ed25519.pem")), StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(Data, "keys", "log-ed25519.pem")));
        }

        await OkAsync("log", "note", "three lines");
        var lines = Signatures((await OkAsync("log", "checkpoint")).Stdout);
        Assert.Equal(vkeys.Select(k => k.KeyId), lines.Select(s => s.KeyId));

        Assert.Contains("\"type\":\"signer.added\"", Encoding.UTF8.GetString((await OkAsync("log", "entry", "0")).Stdout), StringComparison.Ordinal);
        var receipt = await ReceiptAsync(1);
        var text = vkeys.Select(k => k.ToString()).ToList();
        Assert.Equal(0, (await VerifyAsync(receipt, text.Take(2))).ExitCode);
        var all = await VerifyAsync(receipt, text);
        Assert.True(all.ExitCode == 0, all.Stderr);
        Assert.Contains("Ed25519", all.Stderr, StringComparison.Ordinal);

        var edOnly = await VerifyAsync(receipt, [text[2]]);
        Assert.Equal(2, edOnly.ExitCode);
        Assert.Contains("post-quantum signatures are required", edOnly.Stderr, StringComparison.Ordinal);
        Assert.Contains("--allow-ed25519-only", edOnly.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, (await VerifyAsync(receipt, [text[2]], "--allow-ed25519-only")).ExitCode);
        Assert.Contains("--allow-ed25519-only", (await SiosProcess.RunAsync(["verify", "receipt", "--help"], passphrase: null)).Out, StringComparison.Ordinal);

        // A vkey given must have signed: someone else's Ed25519 key beside the right post-quantum ones fails.
        var other = Path.Combine(_root, "other");
        var foreign = Lines(await SiosProcess.RunAsync(["init", "--origin", Origin, "--ed25519", "--data", other]))[2];
        Assert.Equal(1, (await VerifyAsync(receipt, [text[0], text[1], foreign])).ExitCode);

        var exported = Path.Combine(_root, "export");
        await OkAsync("log", "export", exported);
        Assert.Equal(2, (await SiosProcess.RunAsync(["verify", "log", exported, "--vkey", text[2]], passphrase: null)).ExitCode);
        Assert.Equal(0, (await SiosProcess.RunAsync(["verify", "log", exported, .. text.SelectMany(v => new[] { "--vkey", v })], passphrase: null)).ExitCode);
        Assert.Contains("\"intact\":true", (await OkAsync("log", "verify")).Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Add_ed25519_seals_signer_added_and_later_checkpoints_carry_the_line()
    {
        var pq = Lines(await OkAsync("init", "--origin", Origin));
        await OkAsync("log", "note", "before");
        var before = await ReceiptAsync(0);

        var added = Lines(await OkAsync("key", "add-ed25519"));
        var key = VerifierKey.Parse(Assert.Single(added));
        Assert.Equal(NoteKeyKind.Ed25519, key.Kind);
        var entry = Encoding.UTF8.GetString((await OkAsync("log", "entry", "1")).Stdout);
        Assert.Contains("\"type\":\"signer.added\"", entry, StringComparison.Ordinal);
        Assert.Contains(key.ToString().Replace("+", "\\u002B", StringComparison.Ordinal), entry, StringComparison.Ordinal);
        string[] all = [.. pq, key.ToString()];
        Assert.Equal(all, Lines(await OkAsync("key", "vkeys")));

        var again = await SiosProcess.RunAsync(["key", "add-ed25519", "--data", Data]);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("already has an Ed25519 key", again.Stderr, StringComparison.Ordinal);

        await OkAsync("log", "note", "after");
        Assert.Equal(key.KeyId, Signatures((await OkAsync("log", "checkpoint")).Stdout)[2].KeyId);
        var after = await ReceiptAsync(2);
        Assert.Equal(0, (await VerifyAsync(before, pq)).ExitCode);
        Assert.Equal(1, (await VerifyAsync(before, all)).ExitCode);
        Assert.Equal(0, (await VerifyAsync(after, all)).ExitCode);
        Assert.Contains("\"intact\":true", (await OkAsync("log", "verify")).Out, StringComparison.Ordinal);

        var exported = Path.Combine(_root, "public");
        await OkAsync("key", "export-public", "--out", exported);
        Assert.Equal(all, await File.ReadAllLinesAsync(Path.Combine(exported, "vkeys.txt")));
        Assert.Equal(pq, await File.ReadAllLinesAsync(Path.Combine(exported, "original-vkeys.txt")));
    }

    [Fact]
    public async Task A_checkpoint_without_the_line_after_the_addition_is_reported_by_log_verify()
    {
        await OkAsync("init", "--origin", Origin);
        await OkAsync("key", "add-ed25519");
        var keys = Path.Combine(Data, "keys");
        var aside = Path.Combine(_root, "aside");
        Directory.CreateDirectory(aside);
        foreach (var name in new[] { "log-ed25519.pem", "log-ed25519.vkey" })
        {
            File.Move(Path.Combine(keys, name), Path.Combine(aside, name));
        }

        await OkAsync("log", "note", "signed without the Ed25519 key");
        foreach (var name in new[] { "log-ed25519.pem", "log-ed25519.vkey" })
        {
            File.Move(Path.Combine(aside, name), Path.Combine(keys, name));
        }

        var audit = await SiosProcess.RunAsync(["log", "verify", "--data", Data]);
        Assert.Equal(1, audit.ExitCode);
        Assert.Contains("checkpoint at size 2 does not verify", audit.Stderr, StringComparison.Ordinal);
        Assert.Contains("Ed25519", audit.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rotation_leaves_the_ed25519_key_signing_and_the_statements_still_verify()
    {
        var original = Lines(await OkAsync("init", "--origin", Origin, "--ed25519"));
        await OkAsync("log", "note", "before");
        var next = Lines(await OkAsync("key", "rotate-signer"));
        Assert.Equal(2, next.Length);
        string[] signing = [.. next, original[2]];
        Assert.Equal(signing, Lines(await OkAsync("key", "vkeys")));
        await OkAsync("log", "note", "after");
        var after = await ReceiptAsync(3);
        var exported = Path.Combine(_root, "public");
        await OkAsync("key", "export-public", "--out", exported);
        var statement = Directory.GetFiles(exported, "rotation-*.tlog-proof").Single();
        var text = await File.ReadAllTextAsync(statement);
        Assert.Equal(5, text.Split('\n').Count(l => l.StartsWith("\u2014 ", StringComparison.Ordinal)));

        Assert.Equal(0, (await VerifyAsync(after, original.Take(2), "--rotation", statement)).ExitCode);
        var withEd = await VerifyAsync(after, original, "--rotation", statement);
        Assert.True(withEd.ExitCode == 0, withEd.Stderr);
        Assert.Contains("\"intact\":true", (await OkAsync("log", "verify")).Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_passphrase_change_re_encrypts_the_ed25519_key_too()
    {
        await OkAsync("init", "--origin", Origin, "--ed25519");
        const string next = "a whole new passphrase";
        var changed = await SiosProcess.RunAsync(["key", "passphrase", "--data", Data], SiosProcess.Passphrase, null, ("SIOS_NEW_KEY_PASSPHRASE", next));
        Assert.True(changed.ExitCode == 0, changed.Stderr);
        Assert.Contains("log-ed25519.pem", changed.Out, StringComparison.Ordinal);
        Assert.Equal(0, (await SiosProcess.RunAsync(["log", "note", "new passphrase", "--data", Data], next)).ExitCode);
    }

    [Fact]
    public async Task Refusals_have_clear_messages_and_exit_codes()
    {
        var missing = await SiosProcess.RunAsync(["key", "add-ed25519", "--data", Path.Combine(_root, "nowhere")]);
        Assert.Equal(3, missing.ExitCode);
        Assert.Contains("not a SIOS data folder", missing.Stderr, StringComparison.Ordinal);

        await OkAsync("init", "--origin", Origin);
        var noPassphrase = await SiosProcess.RunAsync(["key", "add-ed25519", "--data", Data], passphrase: null);
        Assert.Equal(3, noPassphrase.ExitCode);
        Assert.Contains("SIOS_KEY_PASSPHRASE", noPassphrase.Stderr, StringComparison.Ordinal);
        var wrong = await SiosProcess.RunAsync(["key", "add-ed25519", "--data", Data], "not the passphrase");
        Assert.Equal(3, wrong.ExitCode);
        Assert.Contains("does not open", wrong.Stderr, StringComparison.Ordinal);

        await using (var store = SqliteLogStore.Open(Path.Combine(Data, "log", "log.db")))
        {
            await store.AcquireWriterAsync();
            var serving = await SiosProcess.RunAsync(["key", "add-ed25519", "--data", Data]);
            Assert.Equal(4, serving.ExitCode);
            Assert.Contains("stop 'sios serve' before 'sios key add-ed25519'", serving.Stderr, StringComparison.Ordinal);
        }

        Assert.Equal(2, Lines(await OkAsync("key", "vkeys")).Length);
        Assert.False(File.Exists(Path.Combine(Data, "keys", "log-ed25519.pem")));
        await OkAsync("key", "add-ed25519");
        File.Delete(Path.Combine(Data, "keys", "log-ed25519.vkey"));
        var half = await SiosProcess.RunAsync(["log", "note", "half a key", "--data", Data]);
        Assert.Equal(3, half.ExitCode);
        Assert.Contains("log-ed25519.vkey is missing", half.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("add:staged", false)]
    [InlineData("add:sealed", true)]
    [InlineData("add:moved-one", true)]
    public async Task An_addition_cut_short_is_finished_or_undone_by_the_next_command(string point, bool takesEffect)
    {
        await OkAsync("init", "--origin", Origin);
        var crashed = await SiosProcess.RunAsync(["key", "add-ed25519", "--data", Data], SiosProcess.Passphrase, null, ("SIOS_FAULT_EXIT_AT", point));
        Assert.True(crashed.ExitCode == 86, $"expected the fault exit at {point}: {crashed.ExitCode} {crashed.Stderr}");

        await OkAsync("log", "note", "after the crash");
        Assert.False(Directory.Exists(Path.Combine(Data, "keys", "addition")));
        Assert.Equal(takesEffect ? 3 : 2, Lines(await OkAsync("key", "vkeys")).Length);
        Assert.Equal(takesEffect ? 3 : 2, Signatures((await OkAsync("log", "checkpoint")).Stdout).Count);
        Assert.Contains("\"intact\":true", (await OkAsync("log", "verify")).Out, StringComparison.Ordinal);
    }
}
