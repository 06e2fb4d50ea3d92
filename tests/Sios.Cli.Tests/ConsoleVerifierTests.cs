using System.Globalization;
using System.Text;
using System.Text.Json;
using Sios.Tests.Shared;
using Sios.Verify;
using Sios.Verify.Notes;
using Sios.Verify.Receipts;

namespace Sios.Cli.Tests;

/// <summary>
/// The console's in-browser verifier (web/console/src/verify.js: @noble/post-quantum, WebCrypto, parsing by hand) and
/// Sios.Verify must agree on every receipt: real ones from the sios program, and the same receipts mutated byte by byte
/// and line by line. Neither is the other's oracle; a disagreement is a bug in one of them.
/// </summary>
public sealed class ConsoleVerifierTests(InitialisedLog log) : IClassFixture<InitialisedLog>
{
    [ConsoleVerifierFact]
    public async Task The_browser_verifier_and_Sios_Verify_agree_on_real_and_mutated_receipts()
    {
        var indices = new List<long>();
        for (var i = 0; i < 6; i++)
        {
            var note = await SiosProcess.RunAsync(["log", "note", $"cross-checked {i} <script>alert(1)</script>", "--data", log.Data]);
            Assert.True(note.ExitCode == 0, note.Stderr);
            indices.Add(long.Parse(note.Out.Trim(), CultureInfo.InvariantCulture));
        }

        var folder = Path.Combine(log.Root, "console-receipts-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        var files = new List<string>();
        var random = new Random(2026);
        foreach (var index in new[] { indices[1], indices[4] })
        {
            var receipt = (await SiosProcess.RunAsync(["log", "receipt", index.ToString(CultureInfo.InvariantCulture), "--data", log.Data], passphrase: null)).Stdout;
            foreach (var (name, bytes) in Mutations(receipt, random))
            {
                var file = Path.Combine(folder, $"{index}-{name}.tlog-proof");
                await File.WriteAllBytesAsync(file, bytes);
                files.Add(file);
            }
        }

        var verifier = new ReceiptVerifier([.. log.Vkeys.Select(VerifierKey.Parse)]);
        var accepted = await CrossCheckAsync(folder, files, bytes => verifier.Verify(bytes));
        var rejected = files.Count - accepted;

        // Both the genuine receipts pass, and most mutations are caught (a flip inside base64 padding bits changes nothing).
        Assert.True(accepted >= 2, $"{accepted} accepted");
        Assert.True(rejected > files.Count / 2, $"only {rejected} of {files.Count} rejected");
    }

    [ConsoleVerifierFact]
    public async Task The_console_charts_write_text_only_and_read_metrics_and_entries_as_given()
    {
        // test/charts.mjs asserts on its own (a fake DOM that refuses innerHTML and style attributes) and exits non-zero on a failure.
        Assert.Contains("charts: ok", await ConsoleVerdicts.RunScriptAsync(ConsoleVerifier.Folder!, ["test/charts.mjs"]), StringComparison.Ordinal);
    }

    [ConsoleVerifierFact]
    public async Task The_browser_verifier_and_Sios_Verify_agree_on_real_and_mutated_attestations()
    {
        var attested = await SiosProcess.RunAsync(["attest", "--data", log.Data]);
        Assert.True(attested.ExitCode == 0, attested.Stderr);
        var folder = Path.Combine(log.Root, "console-attestations-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        var files = new List<string>();
        var random = new Random(7);
        var text = Encoding.UTF8.GetString(attested.Stdout);
        var variants = new List<(string, byte[])> { ("genuine", attested.Stdout) };
        for (var i = 0; i < 30; i++)
        {
            var flipped = (byte[])attested.Stdout.Clone();
            var at = random.Next(flipped.Length);
            flipped[at] ^= (byte)(1 << random.Next(8));
            variants.Add(($"flip-{at}", flipped));
        }

        variants.Add(("egress-widened", Encoding.UTF8.GetBytes(text.Replace("egress none", "egress example.com", StringComparison.Ordinal))));
        variants.Add(("unsigned", Encoding.UTF8.GetBytes(text[..(text.LastIndexOf("\n\n", StringComparison.Ordinal) + 2)])));
        foreach (var (name, bytes) in variants)
        {
            var file = Path.Combine(folder, name + ".attestation");
            await File.WriteAllBytesAsync(file, bytes);
            files.Add(file);
        }

        var verifier = new Sios.Verify.Attestations.AttestationVerifier(VerifierKey.Parse(log.Vkeys[0]));
        var accepted = await CrossCheckAsync(folder, files, bytes => verifier.Verify(bytes));

        Assert.InRange(accepted, 1, 3);
    }

    private static IEnumerable<(string Name, byte[] Bytes)> Mutations(byte[] receipt, Random random)
    {
        yield return ("genuine", receipt);
        for (var i = 0; i < 40; i++)
        {
            var flipped = (byte[])receipt.Clone();
            var at = random.Next(flipped.Length);
            flipped[at] ^= (byte)(1 << random.Next(8));
            yield return ($"flip-{at}", flipped);
        }

        var text = Encoding.UTF8.GetString(receipt);
        var lines = text.Split('\n');
        var blank = Array.IndexOf(lines, "");
        yield return ("no-extra", Encoding.UTF8.GetBytes(string.Join('\n', lines.Where((_, n) => n != 1))));
        var index = long.Parse(lines[2]["index ".Length..], CultureInfo.InvariantCulture);
        yield return ("next-index", Encoding.UTF8.GetBytes(text.Replace(lines[2], $"index {index + 1}", StringComparison.Ordinal)));
        if (blank > 4)
        {
            yield return ("proof-swapped", Encoding.UTF8.GetBytes(string.Join('\n', [.. lines[..3], lines[4], lines[3], .. lines[5..]])));
        }

        if (blank > 3)
        {
            yield return ("proof-dropped", Encoding.UTF8.GetBytes(string.Join('\n', lines.Where((_, n) => n != blank - 1))));
        }

        yield return ("signature-dropped", Encoding.UTF8.GetBytes(string.Join('\n', lines.Where((_, n) => n != lines.Length - 2))));
        yield return ("foreign-line", Encoding.UTF8.GetBytes(text[..^1] + "\n\u2014 someone.else AAAAAAAAAAAAAAAAAAAAAA==\n"));
        yield return ("truncated", receipt[..(receipt.Length / 2)]);
    }

    /// <summary>Runs the console's verifier over <paramref name="files"/> and asserts it agrees with <paramref name="verify"/> (throwing: invalid); returns how many both accepted.</summary>
    private async Task<int> CrossCheckAsync(string folder, List<string> files, Action<byte[]> verify)
    {
        var vkeys = Path.Combine(folder, "vkeys");
        await File.WriteAllLinesAsync(vkeys, log.Vkeys);
        var console = await ConsoleVerdicts.RunAsync(ConsoleVerifier.Folder!, "test/verify-receipts.mjs", vkeys, files);
        return await ConsoleVerdicts.AssertAgreeAsync(console, async file =>
        {
            try
            {
                verify(await File.ReadAllBytesAsync(file));
                return null;
            }
            catch (Exception e) when (e is VerificationException or FormatViolationException)
            {
                return e.Message;
            }
        });
    }
}

/// <summary>Finds web/console with its npm dependencies installed, and node on the PATH.</summary>
internal static class ConsoleVerifier
{
    public static string? Folder { get; } = Interop.NodeFolder("web/console");
}

/// <summary>A fact skipped, with the reason stated, when the console's verifier cannot run here.</summary>
internal sealed class ConsoleVerifierFactAttribute : FactAttribute
{
    public ConsoleVerifierFactAttribute()
    {
        if (ConsoleVerifier.Folder is null)
        {
            Skip = "node or web/console/node_modules is missing: run 'npm install' in web/console (.ci/run does)";
        }
    }
}
