using System.Text;
using System.Text.Json;
using Sios.Verify;
using Sios.Verify.Checkpoints;
using Sios.Verify.Merkle;
using Sios.Verify.Notes;
using Sios.Verify.Receipts;

namespace Sios.Cli.Tests;

public sealed class CliWorkflowTests(InitialisedLog log) : IClassFixture<InitialisedLog>
{
    private string[] D(params string[] args) => [.. args, "--data", log.Data];

    private async Task<long> NoteAsync(string text)
    {
        var run = await SiosProcess.RunAsync(D("log", "note", text));
        Assert.True(run.ExitCode == 0, run.Stderr);
        return long.Parse(run.Out.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Init_prints_the_ml_dsa_65_then_the_ml_dsa_44_vkey_and_key_vkeys_repeats_them()
    {
        var keys = log.Vkeys.Select(VerifierKey.Parse).ToArray();
        Assert.Equal([NoteKeyKind.MlDsa65, NoteKeyKind.MlDsa44Cosignature], keys.Select(k => k.Kind));
        Assert.All(keys, k => Assert.Equal(InitialisedLog.Origin, k.Name));
        var run = await SiosProcess.RunAsync(D("key", "vkeys"), passphrase: null);
        Assert.Equal(0, run.ExitCode);
        Assert.Equal(string.Join('\n', log.Vkeys) + "\n", run.Out);
    }

    [Fact]
    public async Task Checkpoint_is_a_signed_note_with_both_signatures_of_spec_section_3()
    {
        await NoteAsync("for the checkpoint test");
        var run = await SiosProcess.RunAsync(D("log", "checkpoint"), passphrase: null);
        Assert.Equal(0, run.ExitCode);
        var verified = CheckpointVerifier.ForLogKeys(log.Vkeys.Select(VerifierKey.Parse).ToList()).Verify(run.Stdout);
        Assert.Equal(2, verified.Signatures.Count);
        var lines = run.Out.Split('\n');
        Assert.Equal(InitialisedLog.Origin, lines[0]);
        Assert.Equal(verified.Checkpoint.Size.ToString(System.Globalization.CultureInfo.InvariantCulture), lines[1]);
        Assert.Equal("", lines[3]);
        Assert.StartsWith($"\u2014 {InitialisedLog.Origin} ", lines[4], StringComparison.Ordinal);
        Assert.StartsWith($"\u2014 {InitialisedLog.Origin} ", lines[5], StringComparison.Ordinal);
        Assert.Equal(4 + 3309, Convert.FromBase64String(lines[4].Split(' ')[2]).Length);
        Assert.Equal(4 + 8 + 2420, Convert.FromBase64String(lines[5].Split(' ')[2]).Length);
        Assert.Equal("", lines[6]);
        Assert.Equal(7, lines.Length);
    }

    [Fact]
    public async Task A_sealed_note_has_a_receipt_that_verifies_offline_and_yields_the_entry()
    {
        var index = await NoteAsync("hello, auditor");
        var receipt = await SiosProcess.RunAsync(D("log", "receipt", index.ToString(System.Globalization.CultureInfo.InvariantCulture)), passphrase: null);
        Assert.Equal(0, receipt.ExitCode);
        Assert.StartsWith("c2sp.org/tlog-proof@v1\nextra ", receipt.Out, StringComparison.Ordinal);

        var file = Path.Combine(log.Root, $"r{index}.tlog-proof");
        await File.WriteAllBytesAsync(file, receipt.Stdout);
        var verify = await SiosProcess.RunAsync(["verify", "receipt", file, "--vkey", log.Vkeys[0], "--vkey", log.Vkeys[1]], passphrase: null);
        Assert.True(verify.ExitCode == 0, verify.Stderr);
        using var entry = JsonDocument.Parse(verify.Stdout);
        Assert.Equal("operator.note", entry.RootElement.GetProperty("type").GetString());
        Assert.Equal("hello, auditor", entry.RootElement.GetProperty("text").GetString());
        Assert.Equal(1, entry.RootElement.GetProperty("v").GetInt32());
        Assert.Equal("operator", entry.RootElement.GetProperty("actor").GetString());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", entry.RootElement.GetProperty("time").GetString());
        Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", entry.RootElement.GetProperty("id").GetString());

        var library = new ReceiptVerifier(log.Vkeys.Select(VerifierKey.Parse).ToList()).Verify(receipt.Stdout);
        Assert.Equal(index, library.Index);
        var bytes = await SiosProcess.RunAsync(D("log", "entry", index.ToString(System.Globalization.CultureInfo.InvariantCulture)), passphrase: null);
        Assert.Equal(library.Entry, bytes.Stdout);
        Assert.Equal(verify.Stdout, bytes.Stdout);

        var onlyPrimary = await SiosProcess.RunAsync(["verify", "receipt", file, "--vkey", log.Vkeys[0]], passphrase: null);
        Assert.Equal(0, onlyPrimary.ExitCode);
    }

    [Fact]
    public async Task Altered_receipts_are_invalid_with_exit_1_and_a_reason()
    {
        var index = await NoteAsync("to be tampered with");
        var receipt = (await SiosProcess.RunAsync(D("log", "receipt", index.ToString(System.Globalization.CultureInfo.InvariantCulture)), passphrase: null)).Out;
        var extra = receipt.Split('\n')[1];
        var entry = Encoding.UTF8.GetString(Convert.FromBase64String(extra["extra ".Length..]));
        var alteredEntry = receipt.Replace(extra, "extra " + Convert.ToBase64String(Encoding.UTF8.GetBytes(entry.Replace("tampered", "tampere!", StringComparison.Ordinal))), StringComparison.Ordinal);
        var lines = receipt.Split('\n');
        var alteredIndex = receipt.Replace($"index {index}\n", $"index {index + 1}\n", StringComparison.Ordinal);
        var sigLine = lines.First(l => l.StartsWith('\u2014'));
        var sig = sigLine.Split(' ')[2].ToCharArray();
        sig[100] = sig[100] == 'A' ? 'B' : 'A';
        var alteredSignature = receipt.Replace(sigLine, $"{sigLine.Split(' ')[0]} {sigLine.Split(' ')[1]} {new string(sig)}", StringComparison.Ordinal);

        foreach (var (name, text, reason) in new[]
        {
            ("entry", alteredEntry, "not included"),
            ("index", alteredIndex, "not included"),
            ("signature", alteredSignature, "does not verify"),
        })
        {
            var file = Path.Combine(log.Root, $"bad-{name}.tlog-proof");
            await File.WriteAllTextAsync(file, text);
            var run = await SiosProcess.RunAsync(["verify", "receipt", file, "--vkey", log.Vkeys[0], "--vkey", log.Vkeys[1]], passphrase: null);
            Assert.True(run.ExitCode == 1, $"{name}: {run.ExitCode} {run.Stderr}");
            Assert.Contains("INVALID", run.Stderr, StringComparison.Ordinal);
            Assert.Contains(reason, run.Stderr, StringComparison.Ordinal);
            Assert.Empty(run.Stdout);
        }
    }

    [Fact]
    public async Task Consistency_proofs_link_every_pair_of_checkpoints()
    {
        var roots = new Dictionary<long, byte[]>();
        for (var i = 0; i < 3; i++)
        {
            await NoteAsync($"consistency {i}");
            var cp = Checkpoint.Parse(SignedNote.Parse((await SiosProcess.RunAsync(D("log", "checkpoint"), passphrase: null)).Stdout).Text);
            roots[cp.Size] = cp.Root;
        }

        foreach (var from in roots.Keys)
        {
            foreach (var to in roots.Keys.Where(t => t >= from))
            {
                var run = await SiosProcess.RunAsync(D("log", "consistency", "--from", $"{from}", "--to", $"{to}"), passphrase: null);
                Assert.Equal(0, run.ExitCode);
                var proof = run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Convert.FromBase64String).ToList();
                MerkleProofs.VerifyConsistency(from, to, proof, roots[from], roots[to]);
            }
        }
    }

    [Fact]
    public async Task Log_verify_reports_an_intact_log_as_json_with_exit_0()
    {
        await NoteAsync("audit me");
        var run = await SiosProcess.RunAsync(D("log", "verify"), passphrase: null);
        Assert.True(run.ExitCode == 0, run.Stderr);
        using var report = JsonDocument.Parse(run.Stdout);
        Assert.True(report.RootElement.GetProperty("intact").GetBoolean());
        Assert.True(report.RootElement.GetProperty("checkpoints").GetInt64() >= 2);
    }

    [Theory]
    [InlineData(new[] { "log", "receipt", "999999" }, 3, "not in the log")]
    [InlineData(new[] { "log", "entry", "999999" }, 3, "not in the log")]
    [InlineData(new[] { "log", "entry", "-1" }, 2, "")]
    [InlineData(new[] { "log", "entry", "abc" }, 2, "")]
    [InlineData(new[] { "log", "consistency", "--from", "5", "--to", "2" }, 3, "from <= to")]
    [InlineData(new[] { "log", "frobnicate" }, 2, "")]
    [InlineData(new[] { "log", "note" }, 2, "either TEXT or --stdin")]
    public async Task Bad_requests_fail_with_the_documented_exit_code_and_no_stack_trace(string[] args, int exit, string message)
    {
        var run = await SiosProcess.RunAsync(D(args));
        Assert.Equal(exit, run.ExitCode);
        Assert.Contains(message, run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Stderr, StringComparison.Ordinal);
        Assert.Empty(run.Stdout);
    }

    [Fact]
    public async Task Sealing_needs_the_right_passphrase()
    {
        var missing = await SiosProcess.RunAsync(D("log", "note", "x"), passphrase: null);
        Assert.Equal(3, missing.ExitCode);
        Assert.Contains("SIOS_KEY_PASSPHRASE", missing.Stderr, StringComparison.Ordinal);
        var wrong = await SiosProcess.RunAsync(D("log", "note", "x"), passphrase: "not it");
        Assert.Equal(3, wrong.ExitCode);
        Assert.Contains("wrong passphrase", wrong.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Init_refuses_an_existing_folder_and_commands_refuse_a_missing_one()
    {
        var again = await SiosProcess.RunAsync(["init", "--origin", "x.example/y", "--data", log.Data]);
        Assert.Equal(3, again.ExitCode);
        Assert.Contains("not empty", again.Stderr, StringComparison.Ordinal);
        var missing = await SiosProcess.RunAsync(["log", "checkpoint", "--data", Path.Combine(log.Root, "nowhere")]);
        Assert.Equal(3, missing.ExitCode);
        Assert.Contains("sios init", missing.Stderr, StringComparison.Ordinal);
        var badOrigin = await SiosProcess.RunAsync(["init", "--origin", "has space", "--data", Path.Combine(log.Root, "o")]);
        Assert.Equal(2, badOrigin.ExitCode);
    }

    [Fact]
    public async Task Verify_receipt_usage_errors_exit_2()
    {
        Assert.Equal(2, (await SiosProcess.RunAsync(["verify", "receipt", "/nonexistent", "--vkey", log.Vkeys[0]], passphrase: null)).ExitCode);
        Assert.Equal(2, (await SiosProcess.RunAsync(["verify", "receipt", "/nonexistent"], passphrase: null)).ExitCode);
        Assert.Equal(2, (await SiosProcess.RunAsync(["verify", "receipt", "x", "--vkey", "not-a-vkey"], passphrase: null)).ExitCode);
    }

    [Fact]
    public async Task An_exported_log_audits_offline_from_its_tiles_and_names_an_altered_bundle()
    {
        await NoteAsync("exported");
        var dir = Path.Combine(log.Root, "published-" + Guid.NewGuid().ToString("N"));
        var export = await SiosProcess.RunAsync(D("log", "export", dir), passphrase: null);
        Assert.True(export.ExitCode == 0, export.Stderr);
        var size = long.Parse(export.Out.Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(File.Exists(Path.Combine(dir, "checkpoint")));
        Assert.True(File.Exists(Path.Combine(dir, "tile", "entries", $"000.p/{size}".Replace('/', Path.DirectorySeparatorChar))));
        Assert.True(File.Exists(Path.Combine(dir, "tile", "0", $"000.p/{size}".Replace('/', Path.DirectorySeparatorChar))));
        string[] vkeyArgs = [.. log.Vkeys.SelectMany(v => new[] { "--vkey", v })];

        var ok = await SiosProcess.RunAsync(["verify", "log", dir, .. vkeyArgs], passphrase: null);
        Assert.True(ok.ExitCode == 0, ok.Stderr);
        using (var report = JsonDocument.Parse(ok.Stdout))
        {
            Assert.True(report.RootElement.GetProperty("intact").GetBoolean());
            Assert.Equal(size, report.RootElement.GetProperty("size").GetInt64());
        }

        var bundle = Path.Combine(dir, "tile", "entries", $"000.p/{size}".Replace('/', Path.DirectorySeparatorChar));
        var bytes = await File.ReadAllBytesAsync(bundle);
        bytes[^3] ^= 0x01;
        await File.WriteAllBytesAsync(bundle, bytes);
        var bad = await SiosProcess.RunAsync(["verify", "log", dir, .. vkeyArgs], passphrase: null);
        Assert.Equal(1, bad.ExitCode);
        using var badReport = JsonDocument.Parse(bad.Stdout);
        Assert.Equal(size - 1, badReport.RootElement.GetProperty("bad_index").GetInt64());
    }

    [Fact]
    public async Task Serve_on_a_port_in_use_says_so_in_one_line_and_exits_3()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var run = await SiosProcess.RunAsync(["serve", "--urls", $"http://127.0.0.1:{port}", "--data", log.Data]);
        Assert.True(run.ExitCode == 3, $"exit {run.ExitCode}: {run.Stderr}");
        var lines = run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"sios: cannot listen on http://127.0.0.1:{port}: the port is already in use by another program; choose a free one with --urls http://127.0.0.1:PORT, or port 0 to let the system pick one", Assert.Single(lines));
    }

    [Fact]
    public async Task Demo_sets_up_its_folder_brains_and_key_once_and_reuses_them()
    {
        var dir = Path.Combine(log.Root, "demo");
        var first = await SiosProcess.RunAsync(["demo", "--data", dir, "--no-serve"], passphrase: null);
        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.Equal(dir + "\n", first.Out);
        Assert.Contains("registered brains demo, demo-tools, clinical, contracts, ledger", first.Stderr, StringComparison.Ordinal);
        var key = (await File.ReadAllTextAsync(Path.Combine(dir, "demo-api-key.txt"))).Trim();
        Assert.Contains(key, first.Stderr, StringComparison.Ordinal);

        var second = await SiosProcess.RunAsync(["demo", "--data", dir, "--no-serve"], passphrase: null);
        Assert.True(second.ExitCode == 0, second.Stderr);
        Assert.DoesNotContain("registered brains", second.Stderr, StringComparison.Ordinal);
        Assert.Equal(key, (await File.ReadAllTextAsync(Path.Combine(dir, "demo-api-key.txt"))).Trim());

        var types = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            using var entry = JsonDocument.Parse((await SiosProcess.RunAsync(["log", "entry", $"{i}", "--data", dir], passphrase: null)).Stdout);
            types.Add(entry.RootElement.GetProperty("type").GetString()!);
            Assert.DoesNotContain(key, entry.RootElement.GetRawText(), StringComparison.Ordinal);
        }

        Assert.Equal(["brain.registered", "brain.registered", "brain.registered", "brain.registered", "brain.registered", "key.created"], types);
        var listed = await SiosProcess.RunAsync(["brain", "list", "--data", dir], passphrase: null);
        Assert.Equal(5, listed.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Theory]
    [InlineData("")]
    [InlineData("demo")]
    [InlineData("serve")]
    [InlineData("init")]
    [InlineData("key")]
    [InlineData("key vkeys")]
    [InlineData("log")]
    [InlineData("log note")]
    [InlineData("log checkpoint")]
    [InlineData("log receipt")]
    [InlineData("log consistency")]
    [InlineData("log entry")]
    [InlineData("log verify")]
    [InlineData("log export")]
    [InlineData("log monitor")]
    [InlineData("verify log")]
    [InlineData("verify")]
    [InlineData("verify receipt")]
    [InlineData("witness")]
    [InlineData("witness init")]
    [InlineData("witness add-log")]
    [InlineData("witness vkeys")]
    [InlineData("witness serve")]
    public async Task Every_command_has_help(string commandLine)
    {
        var command = commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var run = await SiosProcess.RunAsync([.. command, "--help"], passphrase: null);
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("Usage:", run.Out, StringComparison.Ordinal);
        if (command.Length == 0)
        {
            Assert.Contains("Exit codes:", run.Out, StringComparison.Ordinal);
        }
    }
}
