using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Sios.Verify.Attestations;

namespace Sios.EndToEnd;

/// <summary>
/// <c>sios brain add|remove</c> while <c>sios serve</c> holds the log: the server registers the brain through its
/// control socket, seals the change and a fresh attestation, and answers for the new brain without a restart.
/// </summary>
public sealed class BrainChangeWhileServingTests(ServedDemo demo) : IClassFixture<ServedDemo>
{
    private static StringContent Ask(string brain) =>
        new($$"""{"model":"{{brain}}","messages":[{"role":"user","content":"Hi"}],"max_tokens":3}""", Encoding.UTF8, "application/json");

    [Fact]
    public async Task A_brain_added_and_removed_while_serving_is_sealed_attested_and_answered_at_once()
    {
        using var client = demo.Client();
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync("/v1/chat/completions", Ask("triage"))).StatusCode);

        // A relative path: the CLI must hand the server a path that does not depend on the CLI's own directory.
        var model = Path.GetRelativePath(Environment.CurrentDirectory, Path.Combine(demo.Data, "brains", "demo-base.gguf"));
        var added = await SiosCli.RunAsync("brain", "add", "triage", "--model", model, "--description", "added while serving", "--data", demo.Data);
        Assert.True(added.ExitCode == 0, added.Err);
        Assert.Contains("through the running server", added.Err, StringComparison.Ordinal);
        var printed = added.Out.Trim().Split(' ');
        Assert.Equal("triage", printed[0]);
        Assert.Matches("^sha256:[0-9a-f]{64}$", printed[1]);

        var answer = await client.PostAsync("/v1/chat/completions", Ask("triage"));
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Contains("\"triage\"", await client.GetStringAsync("/v1/models"), StringComparison.Ordinal);

        var attestation = await LatestAttestationAsync();
        Assert.Contains("triage", attestation.Statement.Brains.Select(b => b.Name));
        var registered = await demo.EntryAsync(attestation.Statement.LogSize - 1);
        Assert.Equal("brain.registered", registered.GetProperty("type").GetString());
        Assert.Equal("attestation", (await demo.EntryAsync(attestation.Statement.LogSize)).GetProperty("type").GetString());

        var taken = await SiosCli.RunAsync("brain", "add", "triage", "--model", model, "--data", demo.Data);
        Assert.Equal(2, taken.ExitCode);
        Assert.Contains("already registered", taken.Err, StringComparison.Ordinal);
        var missing = await SiosCli.RunAsync("brain", "add", "ghost", "--model", Path.Combine(demo.Root, "absent.gguf"), "--data", demo.Data);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("does not exist", missing.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", missing.Err, StringComparison.Ordinal);

        var removed = await SiosCli.RunAsync("brain", "remove", "triage", "--data", demo.Data);
        Assert.True(removed.ExitCode == 0, removed.Err);
        Assert.Equal("triage", removed.Out.Trim());
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync("/v1/chat/completions", Ask("triage"))).StatusCode);
        var after = await LatestAttestationAsync();
        Assert.DoesNotContain("triage", after.Statement.Brains.Select(b => b.Name));
        Assert.Equal("brain.removed", (await demo.EntryAsync(after.Statement.LogSize - 1)).GetProperty("type").GetString());
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/chat/completions", Ask("clinical"))).StatusCode);
    }

    [Fact]
    public async Task The_running_server_refuses_what_is_not_a_model_and_its_lora_before_anything_is_sealed()
    {
        var notes = Path.Combine(demo.Root, "notes.txt");
        await File.WriteAllTextAsync(notes, "these are notes, not weights; long enough to hold a GGUF header\n");
        var brains = Path.Combine(demo.Data, "brains");
        var cases = new (string[] Args, string Expected)[]
        {
            (["--model", notes], "is not a GGUF file"),
            (["--model", brains], "is a folder; give the GGUF file inside it"),
            (["--model", Path.Combine(brains, "clinical.lora.gguf")], "is a LoRA adapter, not a model"),
            (["--model", Path.Combine(brains, "demo-base.gguf"), "--adapter", Path.Combine(brains, "demo-base.gguf")], "is not a LoRA adapter"),
        };
        using var client = demo.Client();
        foreach (var (args, expected) in cases)
        {
            var before = await LogSizeAsync(client);
            var run = await SiosCli.RunAsync(["brain", "add", "not-weights", .. args, "--data", demo.Data]);
            Assert.True(run.ExitCode == 2, $"{string.Join(' ', args)}: exit {run.ExitCode}: {run.Err}");
            Assert.Contains("asking it to register the brain", run.Err, StringComparison.Ordinal);
            Assert.Contains(expected, run.Err, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", run.Err, StringComparison.Ordinal);
            Assert.Equal(before, await LogSizeAsync(client));
        }

        Assert.DoesNotContain("not-weights", await client.GetStringAsync("/v1/models"), StringComparison.Ordinal);
    }

    private static async Task<long> LogSizeAsync(HttpClient client)
    {
        using var health = JsonDocument.Parse(await client.GetStringAsync("/healthz"));
        return health.RootElement.GetProperty("log_size").GetInt64();
    }

    private async Task<VerifiedAttestation> LatestAttestationAsync()
    {
        var newest = Directory.GetFiles(Path.Combine(demo.Data, "attestations"), "*.attestation")
            .OrderByDescending(f => long.Parse(Path.GetFileNameWithoutExtension(f), CultureInfo.InvariantCulture))
            .First();
        return new AttestationVerifier(demo.Vkeys[0]).Verify(await File.ReadAllBytesAsync(newest));
    }
}
