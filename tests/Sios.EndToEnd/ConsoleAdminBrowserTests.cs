using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Sios.EndToEnd;

/// <summary>
/// The rest of the console in Debian's headless Chromium against a real <c>sios serve</c> witnessed by two real
/// <c>sios witness serve</c> processes: the overview (checkpoint with both witnesses' cosignatures checked, signer keys,
/// the latest attestation verified, matched to its sealed entry and to the brains, egress and config served now),
/// the pictures drawn, a key made and revoked from the page with both changes sealed and checked, two turns in the
/// playground each verified byte for byte against its sealed entry, an exported log checked whole (and an altered copy
/// refused), and the witness's own console checking everything it cosigned.
/// </summary>
public sealed class ConsoleAdminBrowserTests : IAsyncLifetime
{
    private readonly ServedDemo _demo = new();
    private readonly List<WitnessProcess> _witnesses = [];

    public async Task InitializeAsync()
    {
        _demo.BeforeServe = async demo =>
        {
            var policy = await WitnessProcess.StartPairAsync(demo, _witnesses);
            demo.ServeArgs = ["--witness-policy", policy, "--egress", "127.0.0.1", "--witness-interval", "1"];
        };
        await _demo.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await _demo.DisposeAsync();
        foreach (var witness in _witnesses)
        {
            await witness.DisposeAsync();
        }
    }

    [ConsoleFact(browser: true)]
    public async Task An_admin_sees_the_node_checked_manages_keys_chats_with_receipts_and_checks_exports_and_the_witness()
    {
        using var client = _demo.Client();
        using var answer = await client.PostAsync("/v1/chat/completions", new StringContent(
            """{"model":"demo","max_tokens":2,"messages":[{"role":"user","content":"before the console"}]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        await WaitWitnessedAsync(client);

        var good = Path.Combine(_demo.Root, "export-good");
        var export = await SiosCli.RunAsync("log", "export", good, "--data", _demo.Data);
        Assert.True(export.ExitCode == 0, export.Err);
        var bad = Path.Combine(_demo.Root, "export-bad");
        await CopyAsync(good, bad);
        var bundle = Directory.GetFiles(Path.Combine(bad, "tile", "entries"), "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First();
        var bytes = await File.ReadAllBytesAsync(bundle);
        bytes[^3] ^= 0x20;
        await File.WriteAllBytesAsync(bundle, bytes);

        var report = await NpmScripts.RunAsync(_demo, "console-admin-e2e.mjs", environment: new Dictionary<string, string>
        {
            ["CHROMIUM"] = Chromium.Path!,
            ["EXPORT_GOOD"] = good,
            ["EXPORT_BAD"] = bad,
            ["WITNESS_URL"] = _witnesses[0].Url.ToString(),
        });
        var root = report.RootElement;
        Assert.Empty(root.GetProperty("errors").EnumerateArray());
        Assert.Empty(root.GetProperty("dialogs").EnumerateArray());

        var overview = root.GetProperty("overview");
        Assert.Equal("true", overview.GetProperty("checkpointOk").GetString());
        var checkpoint = Names(overview.GetProperty("checkpoint"), ok: true);
        Assert.Contains(checkpoint, n => n.StartsWith("ML-DSA-65 signature by demo.sios.local/log+", StringComparison.Ordinal));
        foreach (var witness in _witnesses)
        {
            Assert.Contains(checkpoint, n => n.StartsWith($"ML-DSA-44 cosignature by {witness.Name}+", StringComparison.Ordinal));
            Assert.Contains(checkpoint, n => n.StartsWith($"Ed25519 cosignature by {witness.Name}+", StringComparison.Ordinal));
        }

        Assert.Contains("this server offered", overview.GetProperty("witnessKeys").GetString(), StringComparison.Ordinal);
        Assert.Empty(overview.GetProperty("unchecked").GetString()!);
        Assert.All(overview.GetProperty("signers").EnumerateArray(), c => Assert.True(c.GetProperty("ok").GetBoolean(), c.GetProperty("text").GetString()));
        var attestation = overview.GetProperty("attestation").EnumerateArray().ToList();
        Assert.All(attestation, c => Assert.True(c.GetProperty("ok").GetBoolean(), c.GetProperty("text").GetString()));
        foreach (var name in new[] { "attestation sealed", "brain demo", "egress", "config" })
        {
            Assert.Contains(attestation, c => c.GetProperty("name").GetString() == name);
        }

        Assert.Contains("demo", overview.GetProperty("brains").EnumerateArray().Select(b => b.GetString()));
        Assert.Equal("demo.sios.local/log", overview.GetProperty("facts").GetProperty("origin").GetString());
        Assert.Equal("127.0.0.1", overview.GetProperty("facts").GetProperty("egress").GetString());
        Assert.Equal(4, overview.GetProperty("witnesses").GetArrayLength()); // each witness under its ML-DSA-44 and its Ed25519 key
        Assert.All(overview.GetProperty("witnesses").EnumerateArray(), w => Assert.Contains("cosigning", w.GetString(), StringComparison.Ordinal));

        var pictures = root.GetProperty("pictures").EnumerateArray().ToDictionary(p => p.GetProperty("id").GetString()!, p => p.GetProperty("svg").GetInt32());
        foreach (var id in new[] { "picture-activity", "picture-tokens", "picture-seal", "picture-memory", "picture-witness" })
        {
            Assert.True(pictures.GetValueOrDefault(id) == 1, $"{id} has no picture");
        }

        // Both key changes sealed, by the admin key, and checked in the page; the secret shown once works, then not.
        var made = root.GetProperty("made");
        Assert.All(made.GetProperty("checks").EnumerateArray(), c => Assert.True(c.GetProperty("ok").GetBoolean(), c.GetProperty("text").GetString()));
        var createdAt = long.Parse(made.GetProperty("index").GetString()!, CultureInfo.InvariantCulture);
        var created = await _demo.EntryAsync(createdAt);
        Assert.Equal("key.created", created.GetProperty("type").GetString());
        Assert.Equal("console-made", created.GetProperty("name").GetString());
        Assert.StartsWith("key:", created.GetProperty("actor").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("sios-", made.GetProperty("secret").GetString(), StringComparison.Ordinal);
        var revoked = root.GetProperty("revoked");
        Assert.All(revoked.GetProperty("checks").EnumerateArray(), c => Assert.True(c.GetProperty("ok").GetBoolean(), c.GetProperty("text").GetString()));
        Assert.Equal("key.revoked", (await _demo.EntryAsync(long.Parse(revoked.GetProperty("index").GetString()!, CultureInfo.InvariantCulture))).GetProperty("type").GetString());
        Assert.Contains("revoked", revoked.GetProperty("row").GetString(), StringComparison.Ordinal);
        using (var madeClient = _demo.Client(made.GetProperty("secret").GetString()!))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await madeClient.GetAsync("/v1/models")).StatusCode);
        }

        var chat = root.GetProperty("chat").EnumerateArray().ToList();
        Assert.Equal(2, chat.Count);
        Assert.Equal(2, root.GetProperty("turns").GetInt32());
        foreach (var turn in chat)
        {
            Assert.True(turn.GetProperty("ok").GetString() == "true", turn.GetProperty("verdict").GetString());
            var names = Names(turn.GetProperty("checks"), ok: true);
            Assert.Contains("request commitment", names);
            Assert.Contains("response commitment", names);
            var entry = await _demo.EntryAsync(long.Parse(turn.GetProperty("index").GetString()!, CultureInfo.InvariantCulture));
            Assert.Equal("inference", entry.GetProperty("type").GetString());
            Assert.True(entry.GetProperty("stream").GetBoolean());
        }

        var tool = root.GetProperty("tool");
        Assert.True(tool.GetProperty("ok").GetString() == "true", tool.GetProperty("verdict").GetString());
        Assert.True(int.Parse(tool.GetProperty("calls").GetString()!, CultureInfo.InvariantCulture) >= 1, tool.GetProperty("answer").GetString());
        Assert.Contains("[tool call lookup_weather]", tool.GetProperty("answer").GetString(), StringComparison.Ordinal);
        var called = await _demo.EntryAsync(long.Parse(tool.GetProperty("index").GetString()!, CultureInfo.InvariantCulture));
        Assert.Equal(1, called.GetProperty("tools").GetProperty("offered").GetInt32());
        Assert.Contains("lookup_weather", called.GetProperty("tools").GetProperty("called").EnumerateArray().Select(c => c.GetString()));

        var folders = root.GetProperty("folders");
        Assert.True(folders.GetProperty("good").GetProperty("ok").GetString() == "true", folders.GetProperty("good").GetProperty("verdict").GetString());
        Assert.Equal("false", folders.GetProperty("bad").GetProperty("ok").GetString());
        Assert.NotEmpty(folders.GetProperty("bad").GetProperty("failed").EnumerateArray());

        var witnessPage = root.GetProperty("witness");
        Assert.Contains("this witness offered", witnessPage.GetProperty("state").GetString(), StringComparison.Ordinal);
        var log = witnessPage.GetProperty("logs").EnumerateArray().Single();
        Assert.Equal("demo.sios.local/log", log.GetProperty("origin").GetString());
        Assert.Equal("true", log.GetProperty("ok").GetString());
        var logChecks = log.GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("name").GetString()!).ToList();
        Assert.Contains(logChecks, n => n.StartsWith($"Ed25519 cosignature by {_witnesses[0].Name}+", StringComparison.Ordinal));
        Assert.Contains(logChecks, n => n.StartsWith("ML-DSA-65 signature by demo.sios.local/log+", StringComparison.Ordinal));
        Assert.NotEmpty(witnessPage.GetProperty("records").EnumerateArray());
        Assert.All(witnessPage.GetProperty("records").EnumerateArray(), r => Assert.True(r.GetProperty("ok").GetBoolean(), r.GetProperty("text").GetString()));
    }

    private static List<string> Names(JsonElement checks, bool ok) =>
        [.. checks.EnumerateArray().Where(c => c.GetProperty("ok").GetBoolean() == ok).Select(c => c.GetProperty("name").GetString()!)];

    private static async Task WaitWitnessedAsync(HttpClient client)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!(await client.GetStringAsync("/log/checkpoint", timeout.Token)).Contains("\u2014 witness.example/b", StringComparison.Ordinal))
        {
            await Task.Delay(200, timeout.Token);
        }
    }

    private static async Task CopyAsync(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            await File.WriteAllBytesAsync(target, await File.ReadAllBytesAsync(file));
        }
    }
}
