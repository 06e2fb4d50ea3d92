using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Sios.Verify.Notes;

namespace Sios.EndToEnd;

/// <summary>A <c>sios witness serve</c> process on a loopback port, with its own folder.</summary>
internal sealed class WitnessProcess : IAsyncDisposable
{
    private Process? _process;

    private WitnessProcess(string data, string name, IReadOnlyList<VerifierKey> vkeys)
    {
        Data = data;
        Name = name;
        Vkeys = vkeys;
    }

    public string Data { get; }

    public string Name { get; }

    /// <summary>Its ML-DSA-44 cosigner vkey, then its Ed25519 one.</summary>
    public IReadOnlyList<VerifierKey> Vkeys { get; }

    public Uri Url { get; private set; } = new("http://127.0.0.1/");

    /// <summary>Creates the witness folder and has it witness <paramref name="origin"/> under <paramref name="logVkeys"/> (none: no log at all).</summary>
    public static async Task<WitnessProcess> CreateAsync(string root, string name, string origin, IEnumerable<VerifierKey> logVkeys)
    {
        var data = Path.Combine(root, "witness-" + Guid.NewGuid().ToString("N")[..8]);
        var init = await SiosCli.RunAsync("witness", "init", "--data", data, "--name", name);
        Assert.True(init.ExitCode == 0, init.Err);
        var keys = logVkeys.Select(k => k.ToString()).ToList();
        if (keys.Count > 0)
        {
            var add = await SiosCli.RunAsync(["witness", "add-log", "--data", data, "--origin", origin, .. keys.SelectMany(k => new[] { "--vkey", k })]);
            Assert.True(add.ExitCode == 0, add.Err);
        }

        return new WitnessProcess(data, name, [.. init.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(VerifierKey.Parse)]);
    }

    public async Task StartAsync()
    {
        _process = Process.Start(SiosCli.StartInfo(["witness", "serve", "--data", Data, "--urls", "http://127.0.0.1:0"]))!;
        _process.StandardInput.Close();
        _ = _process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var line = await _process.StandardOutput.ReadLineAsync(timeout.Token);
        Assert.True(line is not null, "sios witness serve exited before serving");
        Url = new Uri(line!.Trim());
    }

    /// <summary>
    /// Starts witnesses witness.example/a and witness.example/b of <paramref name="demo"/>'s log (added to
    /// <paramref name="started"/>, which the caller disposes) and writes a policy whose quorum needs both; returns its path.
    /// </summary>
    public static async Task<string> StartPairAsync(ServedDemo demo, List<WitnessProcess> started)
    {
        var origin = demo.Vkeys[0].Name;
        foreach (var name in new[] { "witness.example/a", "witness.example/b" })
        {
            var witness = await CreateAsync(demo.Root, name, origin, demo.Vkeys);
            started.Add(witness);
            await witness.StartAsync();
        }

        var policy = Path.Combine(demo.Root, "quorum2.policy");
        await File.WriteAllTextAsync(policy, string.Concat(demo.Vkeys.Select(k => $"log {k}\n"))
            + started[^2].PolicyLines("a") + started[^1].PolicyLines("b")
            + "group a any a-pq a-ed\ngroup b any b-pq b-ed\ngroup both all a b\nquorum both\n");
        return policy;
    }

    /// <summary>The policy's witness lines for it: both keys, under names NAME-pq and NAME-ed, one URL.</summary>
    public string PolicyLines(string alias) =>
        $"witness {alias}-pq {Vkeys[0]} {Url}\nwitness {alias}-ed {Vkeys[1]} {Url}\n";

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
    }
}

/// <summary>
/// Issue 14: a log that asks two witnesses (two more processes on 127.0.0.1) under a quorum of both, while answering:
/// every checkpoint it publishes once witnessing began carries both witnesses' cosignatures (ML-DSA-44 subtree/v1 and
/// Ed25519 cosignature/v1 lines of each), and a receipt fetched again verifies under the policy with
/// <c>sios verify receipt --policy</c>; the one fetched at answer time, before witnessing, is named as short of the quorum.
/// </summary>
public sealed class WitnessingTests : IAsyncLifetime
{
    private readonly ServedDemo _demo = new();
    private readonly List<WitnessProcess> _witnesses = [];
    private string _policy = "";

    public async Task InitializeAsync()
    {
        _demo.BeforeServe = async demo =>
        {
            _policy = await WitnessProcess.StartPairAsync(demo, _witnesses);
            demo.ServeArgs = ["--witness-policy", _policy, "--egress", "127.0.0.1", "--witness-interval", "1"];
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

    [Fact]
    public async Task EveryPublishedCheckpointUnderLoadCarriesBothWitnessesAndVerifiesUnderTheQuorum()
    {
        using var watchdog = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        using var client = _demo.Client();
        var answers = new List<long>();
        var load = Task.Run(async () =>
        {
            for (var i = 0; i < 24; i++)
            {
                using var response = await client.PostAsync("/v1/chat/completions", Json(new { model = "demo", max_tokens = 2, messages = new[] { new { role = "user", content = $"q{i}" } } }), watchdog.Token);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                lock (answers)
                {
                    answers.Add(long.Parse(response.Headers.GetValues("Sios-Log-Index").Single(), System.Globalization.CultureInfo.InvariantCulture));
                }
            }
        }, watchdog.Token);

        var first = "";
        var atAnswer = await client.GetByteArrayAsync("/log/receipts/0", watchdog.Token);
        var published = new List<string>();
        var witnessedSizes = new HashSet<long>();
        while (!load.IsCompleted || witnessedSizes.Count < 2)
        {
            var note = await client.GetStringAsync("/log/checkpoint", watchdog.Token);
            if (note.Contains("\u2014 witness.example/", StringComparison.Ordinal))
            {
                first = first.Length == 0 ? note : first;
                witnessedSizes.Add(long.Parse(note.Split('\n')[1], System.Globalization.CultureInfo.InvariantCulture));
            }

            if (first.Length > 0)
            {
                published.Add(note);
            }

            await Task.Delay(300, watchdog.Token);
        }

        await load;
        Assert.True(published.Count >= 2, "the log never published a witnessed checkpoint: " + _demo.Stderr);
        foreach (var note in published)
        {
            // Each witness answers with both of its lines: four witness lines after the log's own.
            var lines = note.Split('\n').Where(l => l.StartsWith("\u2014 witness.example/", StringComparison.Ordinal)).ToList();
            Assert.Equal(4, lines.Count);
            Assert.Equal(2, lines.Count(l => l.StartsWith("\u2014 witness.example/a ", StringComparison.Ordinal)));
        }

        // A receipt fetched now is against the newest witnessed checkpoint and verifies under the quorum-2 policy.
        var index = answers.Min();
        var receiptFile = Path.Combine(_demo.Root, "witnessed.tlog-proof");
        await File.WriteAllBytesAsync(receiptFile, await client.GetByteArrayAsync($"/log/receipts/{index}", watchdog.Token), watchdog.Token);
        var verified = await SiosCli.RunAsync("verify", "receipt", receiptFile, "--policy", _policy);
        Assert.True(verified.ExitCode == 0, verified.Err);
        Assert.Contains("quorum 'both' met", verified.Err, StringComparison.Ordinal);

        // The one fetched before any witnessing still verifies under the log's keys, and is named short of the quorum.
        var earlyFile = Path.Combine(_demo.Root, "early.tlog-proof");
        await File.WriteAllBytesAsync(earlyFile, atAnswer, watchdog.Token);
        var plain = await SiosCli.RunAsync(["verify", "receipt", earlyFile, .. _demo.Vkeys.SelectMany(k => new[] { "--vkey", k.ToString() })]);
        Assert.True(plain.ExitCode == 0, plain.Err);
        if (!Encoding.UTF8.GetString(atAnswer).Contains("\u2014 witness.example/", StringComparison.Ordinal))
        {
            var early = await SiosCli.RunAsync("verify", "receipt", earlyFile, "--policy", _policy);
            Assert.Equal(1, early.ExitCode);
            Assert.Contains("does not meet the policy's quorum 'both'", early.Err, StringComparison.Ordinal);
        }

        // An export of the witnessed tree carries the cosignatures, and audits offline under the policy.
        var export = Path.Combine(_demo.Root, "export");
        var exported = await SiosCli.RunAsync("log", "export", export, "--witnessed", "--data", _demo.Data);
        Assert.True(exported.ExitCode == 0, exported.Err);
        var audited = await SiosCli.RunAsync("verify", "log", export, "--policy", _policy);
        Assert.True(audited.ExitCode == 0, audited.Err);
        Assert.Contains("quorum 'both' met", audited.Err, StringComparison.Ordinal);

        // /healthz shows both witnesses cosigning; system.started sealed the policy's digest.
        using var health = JsonDocument.Parse(await client.GetStringAsync("/healthz", watchdog.Token));
        var witnessing = health.RootElement.GetProperty("witnessing");
        Assert.All(witnessing.GetProperty("witnesses").EnumerateArray(), w => Assert.Equal("cosigning", w.GetProperty("state").GetString()));
        var digest = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(await File.ReadAllBytesAsync(_policy, watchdog.Token)));
        var started = await FindEntryAsync("system.started");
        Assert.Equal(digest, started.GetProperty("witness_policy").GetString());
    }

    private async Task<JsonElement> FindEntryAsync(string type)
    {
        for (long i = 0; ; i++)
        {
            var entry = await _demo.EntryAsync(i);
            if (entry.GetProperty("type").GetString() == type)
            {
                return entry;
            }
        }
    }

    private static StringContent Json(object body) => new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
}
