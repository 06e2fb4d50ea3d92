using System.Net;
using System.Text;
using System.Text.Json;
using Sios.Signing;
using Sios.Verify.Crypto;
using Sios.Verify.Notes;

namespace Sios.EndToEnd;

/// <summary>
/// Issue 14's attacks, each from outside the processes: a consistent rollback of the log's whole data folder, a fork
/// (a copy of the log with the same keys and origin that diverges), an origin the witness does not know and a wrong
/// log key. Each gets the witness's status (409 with its size, 422, 404, 403), is sealed as <c>witness.refused</c> by
/// the log, and shows as refused in <c>/healthz</c>.
/// </summary>
public sealed class WitnessAttackTests
{
    [Fact]
    public async Task ARolledBackLogIsRefusedWithTheSizeTheWitnessHolds()
    {
        using var watchdog = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await using var setup = await WitnessedDemo.StartAsync();
        var demo = setup.Demo;
        var before = await setup.WitnessedSizeAsync(1, watchdog.Token);
        Assert.Equal(0, await demo.StopAsync());
        var backup = Path.Combine(demo.Root, "backup");
        CopyFolder(demo.Data, backup);

        await demo.StartAsync();
        await setup.AnswerAsync(8, watchdog.Token);
        var held = await setup.WitnessedSizeAsync(before + 8, watchdog.Token);
        Assert.Equal(0, await demo.StopAsync());

        // The operator (or whoever can write the folder) restores the old copy whole: database, guard file, witnessed checkpoint.
        Directory.Delete(demo.Data, recursive: true);
        CopyFolder(backup, demo.Data);
        await demo.StartAsync();
        var refused = await setup.RefusalAsync(r => r.GetProperty("status").GetInt32() == 409, watchdog.Token);
        Assert.Equal("witness.example/solo", refused.GetProperty("witness").GetString());
        // The witness may have cosigned once more (system.stopped) after the size read here.
        Assert.True(refused.GetProperty("size").GetInt64() >= held);
        Assert.True(refused.GetProperty("checkpoint").GetInt64() < refused.GetProperty("size").GetInt64());
        Assert.Equal("refused", await setup.WitnessStateAsync(watchdog.Token));

        // The sovereignty report raises it.
        var report = await SiosCli.RunAsync("report", "--format", "json", "--data", demo.Data);
        using var json = JsonDocument.Parse(report.Out);
        var refusals = json.RootElement.GetProperty("witnessing").GetProperty("refusals");
        Assert.Contains(refusals.EnumerateArray(), r => r.GetProperty("status").GetInt32() == 409 && r.GetProperty("witness").GetString() == "witness.example/solo");
    }

    [Fact]
    public async Task AForkWithTheSameKeysAndOriginIsRefusedWith422()
    {
        using var watchdog = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await using var setup = await WitnessedDemo.StartAsync();
        var demo = setup.Demo;
        var before = await setup.WitnessedSizeAsync(1, watchdog.Token);
        Assert.Equal(0, await demo.StopAsync());
        var fork = Path.Combine(demo.Root, "fork");
        CopyFolder(demo.Data, fork);

        await demo.StartAsync();
        await setup.AnswerAsync(4, watchdog.Token);
        var held = await setup.WitnessedSizeAsync(before + 4, watchdog.Token);
        Assert.Equal(0, await demo.StopAsync());

        // The copy serves in the original's place and answers other questions: the same keys sign a second history.
        Directory.Move(demo.Data, Path.Combine(demo.Root, "original"));
        Directory.Move(fork, demo.Data);
        await demo.StartAsync();
        var refused = await setup.RefusalAsync(r => r.GetProperty("status").GetInt32() == 422, watchdog.Token, answerWhileWaiting: true);
        Assert.True(refused.GetProperty("size").GetInt64() >= held);
        // The witness's words, cut to one short line: its verdict comes first, the proof's detail (which varies) after.
        Assert.StartsWith("the checkpoint is not consistent with the cosigned checkpoint", refused.GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnknownOriginIs404AndAWrongLogKeyIs403()
    {
        using var watchdog = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        using var stranger = MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa65);
        await using var setup = await WitnessedDemo.StartAsync(origin => [
            ("witness.example/unknown", []),
            ("witness.example/wrongkey", [VerifierKey.Create(origin, NoteKeyKind.MlDsa65, stranger.PublicKey)]),
        ]);
        var unknown = await setup.RefusalAsync(r => r.GetProperty("witness").GetString() == "witness.example/unknown", watchdog.Token);
        Assert.Equal(404, unknown.GetProperty("status").GetInt32());
        var wrong = await setup.RefusalAsync(r => r.GetProperty("witness").GetString() == "witness.example/wrongkey", watchdog.Token);
        Assert.Equal(403, wrong.GetProperty("status").GetInt32());
        Assert.Null(await setup.WitnessedOrNullAsync(watchdog.Token));
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(dir.Replace(from, to, StringComparison.Ordinal));
        }

        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            // The control socket and other run-time files are not data; a restore would not bring them back either.
            if (!file.EndsWith(".sock", StringComparison.Ordinal))
            {
                File.Copy(file, file.Replace(from, to, StringComparison.Ordinal));
            }
        }
    }
}

/// <summary>A demo log served with a policy of witnesses started for it (by default one, knowing the log's keys).</summary>
internal sealed class WitnessedDemo : IAsyncDisposable
{
    private readonly List<WitnessProcess> _witnesses = [];
    private int _asked;

    private WitnessedDemo(ServedDemo demo) => Demo = demo;

    public ServedDemo Demo { get; }

    public static async Task<WitnessedDemo> StartAsync(Func<string, List<(string Name, VerifierKey[] LogKeys)>>? witnesses = null)
    {
        var setup = new WitnessedDemo(new ServedDemo());
        setup.Demo.BeforeServe = async demo =>
        {
            var origin = demo.Vkeys[0].Name;
            var wanted = witnesses?.Invoke(origin) ?? [("witness.example/solo", [.. demo.Vkeys])];
            var policy = new StringBuilder();
            var names = new List<string>();
            foreach (var (name, keys) in wanted)
            {
                var witness = await WitnessProcess.CreateAsync(demo.Root, name, origin, keys);
                await witness.StartAsync();
                setup._witnesses.Add(witness);
                var alias = "w" + names.Count;
                policy.Append($"witness {alias} {witness.Vkeys[0]} {witness.Url}\n");
                names.Add(alias);
            }

            policy.Append($"group all-of-them any {string.Join(' ', names)}\nquorum all-of-them\n");
            var file = Path.Combine(demo.Root, "witnesses.policy");
            await File.WriteAllTextAsync(file, policy.ToString());
            demo.ServeArgs = ["--witness-policy", file, "--egress", "127.0.0.1", "--witness-interval", "1"];
        };
        await setup.Demo.InitializeAsync();
        return setup;
    }

    public async Task AnswerAsync(int count, CancellationToken ct)
    {
        using var client = Demo.Client();
        for (var i = 0; i < count; i++)
        {
            var body = JsonSerializer.Serialize(new { model = "demo", max_tokens = 2, messages = new[] { new { role = "user", content = $"question {_asked++}" } } });
            using var response = await client.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"), ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    /// <summary>Waits until the log publishes a witnessed checkpoint of at least <paramref name="atLeast"/> entries; returns its size.</summary>
    public async Task<long> WitnessedSizeAsync(long atLeast, CancellationToken ct)
    {
        while (true)
        {
            if (await WitnessedOrNullAsync(ct) is { } size && size >= atLeast)
            {
                return size;
            }

            await Task.Delay(250, ct);
        }
    }

    public async Task<long?> WitnessedOrNullAsync(CancellationToken ct)
    {
        using var health = JsonDocument.Parse(await HealthAsync(ct));
        var size = health.RootElement.GetProperty("witnessing").GetProperty("witnessed_size");
        return size.ValueKind == JsonValueKind.Null ? null : size.GetInt64();
    }

    public async Task<string?> WitnessStateAsync(CancellationToken ct)
    {
        using var health = JsonDocument.Parse(await HealthAsync(ct));
        return health.RootElement.GetProperty("witnessing").GetProperty("witnesses")[0].GetProperty("state").GetString();
    }

    /// <summary>Waits for a sealed <c>witness.refused</c> entry matching <paramref name="match"/>, reading the log over HTTP.</summary>
    public async Task<JsonElement> RefusalAsync(Func<JsonElement, bool> match, CancellationToken ct, bool answerWhileWaiting = false)
    {
        using var client = Demo.Client();
        while (true)
        {
            foreach (var entry in await EntriesAsync(client, ct))
            {
                if (entry.GetProperty("type").GetString() == "witness.refused" && match(entry))
                {
                    return entry;
                }
            }

            if (answerWhileWaiting)
            {
                await AnswerAsync(2, ct);
            }

            await Task.Delay(300, ct);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Demo.DisposeAsync();
        foreach (var witness in _witnesses)
        {
            await witness.DisposeAsync();
        }
    }

    private async Task<string> HealthAsync(CancellationToken ct)
    {
        using var client = Demo.Client();
        return await client.GetStringAsync("/healthz", ct);
    }

    /// <summary>Every entry of the log's first bundle (these logs stay under 256 entries), parsed.</summary>
    private static async Task<List<JsonElement>> EntriesAsync(HttpClient client, CancellationToken ct)
    {
        using var health = JsonDocument.Parse(await client.GetStringAsync("/healthz", ct));
        var size = health.RootElement.GetProperty("log_size").GetInt64();
        Assert.True(size < 256, "the test log outgrew one entry bundle");
        var bundle = await client.GetByteArrayAsync(size == 256 ? "/log/tile/entries/000" : $"/log/tile/entries/000.p/{size}", ct);
        var entries = new List<JsonElement>();
        for (var at = 0; at < bundle.Length;)
        {
            var length = (bundle[at] << 8) | bundle[at + 1];
            using var json = JsonDocument.Parse(bundle.AsMemory(at + 2, length));
            entries.Add(json.RootElement.Clone());
            at += 2 + length;
        }

        return entries;
    }
}
