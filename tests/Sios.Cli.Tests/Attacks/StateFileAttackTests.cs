using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sios.Cli.Tests.Attacks;

/// <summary>
/// Issue 11, item 2, from outside the process: someone who can write the data folder but has no passphrase edits the
/// key file (adds an admin key, un-revokes one, puts back an older copy) or the brain registry (points a pin at other
/// weights). Before, each was accepted and even reported as matching. Now each is refused or corrected from the log,
/// the refusal is sealed, and `sios log verify` names it.
/// </summary>
public sealed class StateFileAttackTests : IAsyncLifetime
{
    private readonly InitialisedLog _log = new();

    private string KeyFile => Path.Combine(_log.Data, "keys", "api-keys.json");

    private string BrainFile => Path.Combine(_log.Data, "brains.json");

    public async Task InitializeAsync()
    {
        await _log.InitializeAsync();
        await MustAsync("key", "create", "alice", "--brains", "*");
        await MustAsync("key", "create", "bob", "--brains", "*", "--role", "admin");
    }

    public Task DisposeAsync() => _log.DisposeAsync();

    private async Task<SiosRun> MustAsync(params string[] args)
    {
        var run = await SiosProcess.RunAsync([.. args, "--data", _log.Data]);
        Assert.True(run.ExitCode == 0, $"{string.Join(' ', args)}: exit {run.ExitCode}: {run.Stderr}");
        return run;
    }

    private async Task AssertRefusedEverywhereAsync(string because)
    {
        var list = await SiosProcess.RunAsync(["key", "list", "--data", _log.Data]);
        Assert.True(list.ExitCode == 5, $"key list: exit {list.ExitCode}: {list.Stderr}");
        Assert.Contains(because, list.Stderr, StringComparison.Ordinal);

        var serve = await SiosProcess.RunAsync(["serve", "--urls", "http://127.0.0.1:0", "--data", _log.Data]);
        Assert.True(serve.ExitCode == 5, $"serve: exit {serve.ExitCode}: {serve.Stderr}");

        var verify = await SiosProcess.RunAsync(["log", "verify", "--data", _log.Data]);
        Assert.True(verify.ExitCode == 1, $"log verify: exit {verify.ExitCode}: {verify.Stderr}");
        Assert.Contains(because, verify.Out, StringComparison.Ordinal);
        Assert.Contains("\"type\":\"state.refused\"", await LastEntryAsync(), StringComparison.Ordinal);
    }

    private async Task<string> LastEntryAsync()
    {
        var checkpoint = await MustAsync("log", "checkpoint");
        var size = long.Parse(checkpoint.Out.Split('\n')[1], System.Globalization.CultureInfo.InvariantCulture);
        return (await MustAsync("log", "entry", (size - 1).ToString(System.Globalization.CultureInfo.InvariantCulture))).Out;
    }

    [Fact]
    public async Task A_hand_made_admin_key_is_refused_and_the_refusal_sealed()
    {
        var id = "0123456789ab";
        var secret = "sios-" + id + "-" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var file = JsonNode.Parse(File.ReadAllText(KeyFile))!;
        file["keys"]!.AsArray().Add(new JsonObject
        {
            ["id"] = id, ["name"] = "mallory", ["role"] = "admin", ["brains"] = new JsonArray("*"),
            ["created"] = "2026-12-01T10:00:00+00:00", ["revoked"] = null,
            ["secret_sha256"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret))), ["rpm"] = null, ["tpm"] = null,
        });
        File.WriteAllText(KeyFile, file.ToJsonString());

        await AssertRefusedEverywhereAsync("does not carry a valid MAC");
    }

    [Fact]
    public async Task An_edited_away_revocation_is_refused()
    {
        await MustAsync("key", "revoke", "alice");
        var file = JsonNode.Parse(File.ReadAllText(KeyFile))!;
        foreach (var key in file["keys"]!.AsArray())
        {
            key!["revoked"] = null;
        }

        File.WriteAllText(KeyFile, file.ToJsonString());
        await AssertRefusedEverywhereAsync("does not carry a valid MAC");
    }

    [Fact]
    public async Task An_older_copy_put_back_over_a_revocation_keeps_the_key_revoked_and_says_so()
    {
        var before = File.ReadAllBytes(KeyFile);
        await MustAsync("key", "revoke", "alice");
        File.WriteAllBytes(KeyFile, before);

        var list = await MustAsync("key", "list", "--json");
        using var keys = JsonDocument.Parse(list.Out);
        var alice = keys.RootElement.EnumerateArray().Single(k => k.GetProperty("name").GetString() == "alice");
        Assert.NotEqual(JsonValueKind.Null, alice.GetProperty("revoked").ValueKind);

        // A start of the log seals the lag it corrected, so the record shows the file was rolled back.
        await MustAsync("log", "note", "after the rollback");
        var verify = await MustAsync("log", "verify");
        Assert.Contains("the log revoked it", verify.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pin_swapped_by_hand_is_refused_by_brain_verify_and_named_by_log_verify()
    {
        var model = Path.Combine(_log.Root, "m.gguf");
        var other = Path.Combine(_log.Root, "other.gguf");
        await MustAsync("brain", "synth", "--out", model);
        var synth = await MustAsync("brain", "synth", "--out", other, "--seed", "9");
        await MustAsync("brain", "add", "pinned", "--model", model);

        var file = JsonNode.Parse(File.ReadAllText(BrainFile))!;
        var brain = file["brains"]!.AsArray().Single()!;
        brain["model_path"] = other;
        brain["model_sha256"] = synth.Out.Trim().Split(' ')[^1];
        File.WriteAllText(BrainFile, file.ToJsonString());

        var verify = await SiosProcess.RunAsync(["brain", "verify", "--data", _log.Data]);
        Assert.True(verify.ExitCode == 5, $"brain verify: exit {verify.ExitCode}: {verify.Stderr}");
        Assert.Contains("does not carry a valid MAC", verify.Stderr, StringComparison.Ordinal);
        var audit = await SiosProcess.RunAsync(["log", "verify", "--data", _log.Data]);
        Assert.Equal(1, audit.ExitCode);
        Assert.Contains("brains.json does not carry a valid MAC", audit.Out, StringComparison.Ordinal);
        var report = await SiosProcess.RunAsync(["report", "--format", "json", "--data", _log.Data]);
        Assert.Contains("brains.json does not carry a valid MAC", report.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_from_before_authentication_is_refused_until_adopted()
    {
        var file = JsonNode.Parse(File.ReadAllText(KeyFile))!.AsObject();
        file["format"] = 1;
        file.Remove("as_of");
        file.Remove("mac");
        File.WriteAllText(KeyFile, file.ToJsonString());

        var refused = await SiosProcess.RunAsync(["state", "check", "--data", _log.Data]);
        Assert.True(refused.ExitCode == 5, refused.Stderr);
        Assert.Contains("sios state adopt", refused.Stderr, StringComparison.Ordinal);

        var adopt = await MustAsync("state", "adopt");
        Assert.Single(adopt.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("\"type\":\"state.adopted\"", await LastEntryAsync(), StringComparison.Ordinal);
        await MustAsync("state", "check");
        await MustAsync("log", "verify");
    }
}
