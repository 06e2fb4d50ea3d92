using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Sios.Bench.Server;
using Sios.Brains.Engines;
using Sios.Brains.Pool;
using Sios.Brains.Registry;
using Sios.Brains.Synth;
using Sios.Ledger.Checkpoints;
using Sios.Ledger.Pipeline;
using Sios.Ledger.Sqlite;
using Sios.Server.Access;
using Sios.Server.Hosting;
using Sios.Signing;
using Sios.Verify.Crypto;

// Usage: dotnet run -c Release --project bench/Sios.Bench.Server [-- --quick] [--seconds N] [--rounds N] [--clients 1,8,32]
//        [--parallel N] [--threads N] [--short-tokens N] [--stream-tokens N] [--stream-rounds N]
var quick = args.Contains("--quick");
// Many short interleaved rounds rather than a few long ones: on a shared machine, load comes and goes.
var seconds = OptionDouble("--seconds", quick ? 1 : 1.5);
var rounds = Option("--rounds", quick ? 2 : 8);
var parallel = Option("--parallel", 4);
var threads = Option("--threads", Environment.ProcessorCount);
var shortTokens = Option("--short-tokens", 4);
var streamTokens = Option("--stream-tokens", quick ? 16 : 64);
var streamRounds = Option("--stream-rounds", quick ? 3 : 9);
var clientCounts = OptionList("--clients", [1, 8, 32]);
const string Brain = "bench";
const string Prompt = "Name one prime number.";
const uint Seed = 42;
const double TargetAddedP50Ms = 2.0;
const double TargetStreamRatio = 0.97;
var shape = quick
    ? new TinyModelOptions { Seed = 7 }
    : new TinyModelOptions { Layers = 8, Embedding = 512, Heads = 8, KvHeads = 8, FeedForward = 1536, Context = 2048, F16 = true, Seed = 7 };

var work = Directory.CreateTempSubdirectory("sios-bench-server-").FullName;
var report = new JsonObject
{
    ["benchmark"] = "sios-server",
    ["quick"] = quick,
    ["machine"] = new JsonObject
    {
        ["cores"] = Environment.ProcessorCount, ["os"] = Environment.OSVersion.ToString(), ["dotnet"] = Environment.Version.ToString(),
        ["load_average_at_start"] = LoadAverage(),
    },
    ["engine_max_parallel"] = parallel,
    ["engine_threads"] = threads,
    ["seconds_per_round"] = seconds,
    ["rounds"] = rounds,
};

try
{
    var modelPath = Path.Combine(work, "bench.gguf");
    TinyModelSynth.WriteModel(modelPath, shape);
    report["model"] = new JsonObject
    {
        ["layers"] = shape.Layers, ["embedding"] = shape.Embedding, ["heads"] = shape.Heads, ["feed_forward"] = shape.FeedForward,
        ["f16"] = shape.F16, ["file_bytes"] = new FileInfo(modelPath).Length,
    };

    Log("standing up the gateway in-process (log, brain, pool, key, Kestrel on 127.0.0.1) ...");
    var signer = new LogSigner("bench.sios.local/log", MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa65), MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa44));
    await using var log = await TransparencyLog.OpenAsync(SqliteLogStore.Open(Path.Combine(work, "log.db")), signer);
    EntrySealer sealer = (entry, ct) => log.AppendAsync(entry, ct);
    var registry = new BrainRegistry(work, sealer);
    await registry.AddAsync(new BrainManifest { Name = Brain, ModelPath = modelPath });
    // Never unloaded mid-run: a reload inside a timed round would be measured as gateway or engine cost.
    await using var pool = new BrainPool(registry, new BrainLoadGuard(sealer), new BrainPoolOptions
    {
        KeepAlive = Timeout.InfiniteTimeSpan,
        Engine = new LlamaEngineOptions { MaxParallel = parallel, Threads = threads },
    });
    var keys = new ApiKeyStore(Path.Combine(work, ApiKeyStore.FileName));
    var key = keys.Prepare("bench", ApiKeyRole.User, [Brain], out var secret);
    await log.AppendAsync(ApiKeyEntries.Created(key));
    keys.Add(key);
    var services = new SiosServices(log, registry, pool, keys, RandomNumberGenerator.GetBytes(32), TimeProvider.System);
    await using var server = SiosServer.Create(new SiosServerOptions { Urls = ["http://127.0.0.1:0"] }, services, LogLevel.Warning);
    await server.StartAsync();
    using var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = Timeout.InfiniteTimeSpan, MaxConnectionsPerServer = 1024 })
    {
        BaseAddress = new Uri(server.Addresses[0]),
        Timeout = TimeSpan.FromMinutes(5),
    };
    http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
    var gateway = new GatewayClient(http, Brain);
    var engine = new DirectClient(pool, Brain);

    var shortRequest = Request(shortTokens);
    var shortBody = gateway.Body(Prompt, shortTokens, Seed, stream: false);
    Log("warm-up: one short answer each way (loads the brain, JIT) ...");
    var direct0 = await engine.AnswerAsync(shortRequest);
    var gateway0 = await gateway.AnswerAsync(shortBody);
    // The seal benchmark appends a real sealed answer's entry, read back from the log, so its size is the served size.
    var sealedEntry = (await log.Reader.ReadEntriesAsync(gateway0.LogIndex, 1))[0];
    report["short_request"] = new JsonObject
    {
        ["prompt"] = Prompt,
        ["max_tokens"] = shortTokens,
        ["prompt_tokens"] = direct0.PromptTokens,
        ["completion_tokens_direct"] = direct0.CompletionTokens,
        ["completion_tokens_gateway"] = gateway0.CompletionTokens,
        ["same_answer"] = direct0.Text == gateway0.Text,
    };

    var shortAnswers = new JsonArray();
    var seals = new JsonArray();
    var floors = new JsonArray();
    foreach (var clients in clientCounts)
    {
        Log($"short answers at {clients} client(s): {rounds} round(s) x {seconds}s each of direct engine, gateway, seal alone, HTTP floor (interleaved) ...");
        var viaEngine = new Samples();
        var viaGateway = new Samples();
        var sealOnly = new Samples();
        var httpFloor = new Samples();
        gateway.TakeTimings();
        (Samples Into, Func<Task<int>> Once)[] modes =
        [
            (viaEngine, async () => (await engine.AnswerAsync(shortRequest)).CompletionTokens),
            (viaGateway, async () => (await gateway.AnswerAsync(shortBody)).CompletionTokens),
            (sealOnly, async () => { await log.AppendAsync(sealedEntry); return 0; }),
            (httpFloor, async () => { await gateway.HealthAsync(); return 0; }),
        ];
        for (var round = 0; round < rounds; round++)
        {
            // Alternating the order cancels slow drift (page cache, thermal, WAL growth) between the modes.
            foreach (var (into, once) in round % 2 == 0 ? modes : Enumerable.Reverse(modes))
            {
                await ClosedLoopAsync(into, clients, once);
            }
        }

        var added = viaGateway.P50 - viaEngine.P50;
        // Where the gateway's time went, as it reports it: the brain's work, the seal, and all of it from admission.
        var timings = gateway.TakeTimings();
        var serverTiming = new JsonObject();
        foreach (var name in new[] { "brain", "seal", "total" })
        {
            var values = timings.Where(t => t.ContainsKey(name)).Select(t => t[name]).Order().ToList();
            serverTiming[name + "_p50_ms"] = values.Count == 0 ? null : Round(values[values.Count / 2], 3);
        }

        shortAnswers.Add(new JsonObject
        {
            ["clients"] = clients,
            ["gateway"] = viaGateway.ToJson(),
            ["direct"] = viaEngine.ToJson(),
            ["added_p50_ms"] = Round(added, 3),
            ["added_p99_ms"] = Round(viaGateway.P99 - viaEngine.P99, 3),
            ["seal_p50_ms"] = Round(sealOnly.P50, 3),
            ["http_floor_p50_ms"] = Round(httpFloor.P50, 3),
            ["gateway_server_timing"] = serverTiming,
            ["ratio_gateway_to_direct_rps"] = Round(viaGateway.RequestsPerSecond / viaEngine.RequestsPerSecond, 3),
            ["within_target_added_p50"] = added <= TargetAddedP50Ms,
        });
        seals.Add(new JsonObject
        {
            ["clients"] = clients,
            ["appends"] = sealOnly.Count,
            ["appends_per_s"] = Round(sealOnly.RequestsPerSecond, 1),
            ["p50_ms"] = Round(sealOnly.P50, 3),
            ["p99_ms"] = Round(sealOnly.P99, 3),
        });
        floors.Add(new JsonObject { ["clients"] = clients, ["rps"] = Round(httpFloor.RequestsPerSecond, 1), ["p50_ms"] = Round(httpFloor.P50, 3), ["p99_ms"] = Round(httpFloor.P99, 3) });
    }

    report["short_answers"] = shortAnswers;
    Log("fsync floor: small write + fsync in the log's folder ...");
    var fsync = FsyncFloor(Path.Combine(work, "fsync.bin"), quick ? 50 : 200);
    report["seal"] = new JsonObject
    {
        ["entry_bytes"] = sealedEntry.Length,
        ["by_clients"] = seals,
        ["fsync_p50_ms"] = Round(fsync.P50, 3),
        ["fsync_p99_ms"] = Round(fsync.P99, 3),
    };
    report["http_floor"] = new JsonObject { ["request"] = "GET /healthz (no key, no seal)", ["by_clients"] = floors };

    Log($"streaming: one client, {streamTokens} tokens, {streamRounds} round(s) each of direct engine and gateway ...");
    var streamRequest = Request(streamTokens);
    var streamBody = gateway.Body(Prompt, streamTokens, Seed, stream: true);
    await gateway.StreamAsync(streamBody);
    var directRuns = new List<StreamRun>();
    var gatewayRuns = new List<StreamRun>();
    for (var round = 0; round < streamRounds; round++)
    {
        if (round % 2 == 0)
        {
            directRuns.Add(await engine.StreamAsync(streamRequest));
            gatewayRuns.Add(await gateway.StreamAsync(streamBody));
        }
        else
        {
            gatewayRuns.Add(await gateway.StreamAsync(streamBody));
            directRuns.Add(await engine.StreamAsync(streamRequest));
        }
    }

    var gatewayRate = Median(gatewayRuns.Select(r => r.TokensPerSecond));
    var directRate = Median(directRuns.Select(r => r.TokensPerSecond));
    var directEndToEnd = Median(directRuns.Select(r => r.EndToEndTokensPerSecond));
    // Below a millisecond a token, tokens outrun their delivery (one JSON chunk, a flush, a read, a thread hop) and
    // arrive in bursts on both sides: first-to-last then times the bursts, not the stream.
    var resolvable = directEndToEnd < 1000;
    report["streaming"] = new JsonObject
    {
        ["max_tokens"] = streamTokens,
        ["rounds"] = streamRounds,
        ["completion_tokens_gateway"] = gatewayRuns[0].Tokens,
        ["completion_tokens_direct"] = directRuns[0].Tokens,
        ["content_chunks_gateway"] = gatewayRuns[0].Chunks,
        ["updates_with_text_direct"] = directRuns[0].Chunks,
        ["gateway_tokens_per_s"] = Round(gatewayRate, 1),
        ["direct_tokens_per_s"] = Round(directRate, 1),
        ["ratio"] = Round(gatewayRate / directRate, 3),
        ["gateway_end_to_end_tokens_per_s"] = Round(Median(gatewayRuns.Select(r => r.EndToEndTokensPerSecond)), 1),
        ["direct_end_to_end_tokens_per_s"] = Round(directEndToEnd, 1),
        ["ratio_end_to_end"] = Round(Median(gatewayRuns.Select(r => r.EndToEndTokensPerSecond)) / directEndToEnd, 3),
        ["gateway_first_token_ms"] = Round(Median(gatewayRuns.Select(r => r.FirstTokenMs)), 3),
        ["direct_first_token_ms"] = Round(Median(directRuns.Select(r => r.FirstTokenMs)), 3),
        ["first_to_last_resolvable"] = resolvable,
        ["within_target_ratio"] = resolvable ? gatewayRate / directRate >= TargetStreamRatio : null,
    };
    report["machine"]!["load_average_at_end"] = LoadAverage();
    report["targets"] = new JsonObject { ["added_p50_ms_at_most"] = TargetAddedP50Ms, ["streamed_ratio_at_least"] = TargetStreamRatio };
}
finally
{
    Directory.Delete(work, recursive: true);
}

Console.WriteLine(report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
return 0;

// The engine request the gateway builds from the same body: no system prompt, the client's settings, the brain's defaults (none) elsewhere.
ChatRequest Request(int maxTokens) => new()
{
    Messages = [new ChatMessage("user", Prompt)],
    MaxTokens = maxTokens,
    Temperature = 0,
    TopP = 1,
    Seed = Seed,
};

async Task ClosedLoopAsync(Samples into, int clients, Func<Task<int>> once)
{
    var latencies = new List<double>[clients];
    var tokens = new long[clients];
    var deadline = TimeSpan.FromSeconds(seconds);
    var stop = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
    {
        var mine = latencies[c] = new List<double>(1024);
        while (stop.Elapsed < deadline)
        {
            var t0 = Stopwatch.GetTimestamp();
            tokens[c] += await once();
            mine.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
    })));
    into.Add(latencies.SelectMany(l => l), stop.Elapsed.TotalSeconds, tokens.Sum());
}

int Option(string name, int fallback)
{
    var at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
}

double OptionDouble(string name, double fallback)
{
    var at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? double.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
}

int[] OptionList(string name, int[] fallback)
{
    var at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length
        ? [.. args[at + 1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(v => int.Parse(v, CultureInfo.InvariantCulture))]
        : fallback;
}

static Samples FsyncFloor(string path, int samples)
{
    var latencies = new List<double>(samples);
    var block = new byte[512];
    using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.None);
    for (var i = 0; i < samples; i++)
    {
        var t0 = Stopwatch.GetTimestamp();
        file.Position = 0;
        file.Write(block);
        file.Flush(flushToDisk: true);
        latencies.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
    }

    var floor = new Samples();
    floor.Add(latencies, 0, 0);
    return floor;
}

// The 1-minute load average: this machine is shared, and other work on it moves every figure.
static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "unknown";

static void Log(string message) => Console.Error.WriteLine(message);

static double Round(double value, int digits) => Math.Round(value, digits);

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted[sorted.Length / 2];
}
