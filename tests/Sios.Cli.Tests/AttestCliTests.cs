using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Sios.Cli.Tests;

/// <summary><c>sios attest</c>, <c>sios verify attestation</c> and <c>sios report</c> through the real program.</summary>
public sealed class AttestCliTests(InitialisedLog log) : IClassFixture<InitialisedLog>
{
    private string[] D(params string[] args) => [.. args, "--data", log.Data];

    private static async Task<SiosRun> OkAsync(string[] args, string? passphrase = SiosProcess.Passphrase)
    {
        var run = await SiosProcess.RunAsync(args, passphrase);
        Assert.True(run.ExitCode == 0, $"{string.Join(' ', args)}: exit {run.ExitCode}: {run.Stderr}");
        return run;
    }

    private async Task<string> AttestAsync(string name)
    {
        var file = Path.Combine(log.Root, name);
        await OkAsync(D("attest", "--out", file));
        return file;
    }

    private static Task<SiosRun> VerifyAsync(string file, string vkey) =>
        SiosProcess.RunAsync(["verify", "attestation", file, "--vkey", vkey], passphrase: null);

    private async Task<string> ModelAsync(string name)
    {
        var model = Path.Combine(log.Root, name + ".gguf");
        GgufFiles.Model(model, 50_000);
        await OkAsync(D("brain", "add", name, "--model", model));
        return model;
    }

    [Fact]
    public async Task Attest_then_verify_offline_with_the_ml_dsa_65_vkey_and_the_entry_holds_its_digest()
    {
        var model = await ModelAsync("att-rt");
        var file = await AttestAsync("rt.attestation");
        var note = await File.ReadAllTextAsync(file);
        Assert.StartsWith("sios-attestation/v1\norigin test.sios.local/log\n", note, StringComparison.Ordinal);
        var pin = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(model)));
        Assert.Contains($"\nbrain att-rt weights {pin} adapter none disk ok\n", note, StringComparison.Ordinal);
        Assert.Contains("\negress none\n", note, StringComparison.Ordinal);
        Assert.DoesNotContain("\nlisten ", note, StringComparison.Ordinal);
        Assert.Contains($"\nsigner ml-dsa-65 {log.Vkeys[0]}\n", note, StringComparison.Ordinal);

        var verified = await VerifyAsync(file, log.Vkeys[0]);
        Assert.True(verified.ExitCode == 0, verified.Stderr);
        var text = note[..(note.LastIndexOf("\n\n", StringComparison.Ordinal) + 1)];
        Assert.Equal(text, verified.Out);

        var checkpoint = await OkAsync(D("log", "checkpoint"), passphrase: null);
        var size = long.Parse(checkpoint.Out.Split('\n')[1], CultureInfo.InvariantCulture);
        var entry = await OkAsync(D("log", "entry", (size - 1).ToString(CultureInfo.InvariantCulture)), passphrase: null);
        using var json = JsonDocument.Parse(entry.Stdout);
        Assert.Equal("attestation", json.RootElement.GetProperty("type").GetString());
        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text))), json.RootElement.GetProperty("statement").GetString());
        Assert.Equal(size - 1, json.RootElement.GetProperty("log").GetProperty("size").GetInt64());
        Assert.True(File.Exists(Path.Combine(log.Data, "attestations", $"{size - 1}.attestation")));
    }

    [Fact]
    public async Task A_one_byte_edit_fails_and_so_does_another_logs_vkey()
    {
        var file = await AttestAsync("edit.attestation");
        var bytes = await File.ReadAllBytesAsync(file);
        var at = Encoding.UTF8.GetString(bytes).IndexOf("\nlog-size ", StringComparison.Ordinal) + "\nlog-size ".Length;
        bytes[at] = bytes[at] == (byte)'7' ? (byte)'8' : (byte)'7';
        var edited = Path.Combine(log.Root, "edited.attestation");
        await File.WriteAllBytesAsync(edited, bytes);
        var run = await VerifyAsync(edited, log.Vkeys[0]);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("INVALID", run.Stderr, StringComparison.Ordinal);
        Assert.Empty(run.Stdout);

        var other = Path.Combine(log.Root, "other-log");
        var init = await OkAsync(["init", "--origin", InitialisedLog.Origin, "--data", other]);
        var otherVkey = init.Out.Split('\n')[0];
        Assert.NotEqual(log.Vkeys[0], otherVkey);
        var wrongKey = await VerifyAsync(file, otherVkey);
        Assert.Equal(1, wrongKey.ExitCode);
        Assert.Contains("not signed by", wrongKey.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, (await VerifyAsync(file, log.Vkeys[0])).ExitCode);
    }

    [Fact]
    public async Task Check_reports_a_changed_weight_file_as_drift()
    {
        var model = await ModelAsync("att-drift");
        var file = await AttestAsync("drift.attestation");
        var clean = await SiosProcess.RunAsync(D("attest", "--check", file), passphrase: null);
        Assert.True(clean.ExitCode == 0, clean.Stderr + clean.Out);
        Assert.Empty(clean.Stdout);

        var bytes = await File.ReadAllBytesAsync(model);
        bytes[1234] ^= 0x01;
        await File.WriteAllBytesAsync(model, bytes);
        try
        {
            var drift = await SiosProcess.RunAsync(D("attest", "--check", file), passphrase: null);
            Assert.Equal(1, drift.ExitCode);
            var lines = drift.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Contains(lines, l => l.StartsWith("- brain att-drift weights ", StringComparison.Ordinal) && l.EndsWith(" disk ok", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.StartsWith("+ brain att-drift weights ", StringComparison.Ordinal) && l.EndsWith(" disk changed", StringComparison.Ordinal));
            Assert.Equal(2, lines.Length);

            var egress = await SiosProcess.RunAsync(D("attest", "--check", file, "--egress", "10.1.2.3"), passphrase: null);
            Assert.Contains("+ egress 10.1.2.3", egress.Out, StringComparison.Ordinal);
            Assert.Contains("- egress none", egress.Out, StringComparison.Ordinal);
        }
        finally
        {
            bytes[1234] ^= 0x01;
            await File.WriteAllBytesAsync(model, bytes);
        }
    }

    [Fact]
    public async Task Report_answers_the_five_questions_in_markdown_and_json()
    {
        await ModelAsync("att-report");
        await AttestAsync("report.attestation");
        var md = await OkAsync(D("report"), passphrase: null);
        foreach (var question in new[] { "Where are the weights?", "Who holds the keys?", "Where is the record?", "Can it be verified without us?", "Can anyone reach it from outside?" })
        {
            Assert.Contains($"## {question}\n", md.Out, StringComparison.Ordinal);
        }

        Assert.Contains("log audit: intact", md.Out, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(log.Data, "log", "log.db"), md.Out, StringComparison.Ordinal);

        var json = await OkAsync(D("report", "--format", "json"), passphrase: null);
        using var doc = JsonDocument.Parse(json.Stdout);
        var root = doc.RootElement;
        Assert.Equal(5, root.GetProperty("questions").GetArrayLength());
        Assert.True(root.GetProperty("verified").GetProperty("log").GetProperty("intact").GetBoolean());
        Assert.True(root.GetProperty("verified").GetProperty("attestation").GetProperty("valid").GetBoolean());
        var record = root.GetProperty("record");
        Assert.Equal(Path.Combine(log.Data, "log", "log.db"), record.GetProperty("path").GetString());
        if (OperatingSystem.IsLinux())
        {
            Assert.Matches("^[0-9]+:[0-9]+$", record.GetProperty("device").GetString());
            Assert.StartsWith("/", record.GetProperty("mount_point").GetString(), StringComparison.Ordinal);
        }

        var keys = root.GetProperty("keys").EnumerateArray().ToList();
        Assert.Contains(keys, k => k.GetProperty("protection").GetString()!.StartsWith("encrypted PKCS#8", StringComparison.Ordinal)
            && k.GetProperty("path").GetString() == Path.Combine(log.Data, "keys", "log-ml-dsa-65.pem"));
        Assert.Contains(root.GetProperty("weights").EnumerateArray(), w => w.GetProperty("brain").GetString() == "att-report" && w.GetProperty("disk").GetString() == "ok");
    }
}
