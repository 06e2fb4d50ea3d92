using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sios.Brains.Engines;
using Sios.Brains.Synth;

// Usage: dotnet run -c Release --project bench/Sios.Bench.Peer [-- --quick] [--llama-server PATH] [--model GGUF]
//        [--runs N] [--prompt-tokens N] [--tokens N] [--threads N]
// llama-server comes from ../shared/peers/build-llama-server.sh (built once per machine, never in CI); give its path
// with --llama-server or SIOS_LLAMA_SERVER. Without it only SIOS and the bare loop are measured, and the JSON says so.
// sios is run from the solution's Release build (dotnet build -c Release first).
var quick = args.Contains("--quick");
var runs = Option("--runs", quick ? 1 : 3);
var promptTokens = Option("--prompt-tokens", quick ? 64 : 268);
var tokens = Option("--tokens", quick ? 8 : 128);
var threads = Option("--threads", 2);
const int Streams = 4;
var peer = Text("--llama-server") ?? Environment.GetEnvironmentVariable("SIOS_LLAMA_SERVER");
var work = Directory.CreateTempSubdirectory("sios-bench-peer-").FullName;
var report = new JsonObject
{
    ["benchmark"] = "sios-vs-llama-server",
    ["quick"] = quick,
    ["machine"] = new JsonObject { ["cores"] = Environment.ProcessorCount, ["os"] = Environment.OSVersion.ToString() },
    ["threads"] = threads,
    ["runs"] = runs,
    // Which llama.cpp build SIOS runs: the packaged one, or one made for this machine (tools/build-native-llama.sh).
    ["sios_llama_build"] = LlamaNative.NativeFolder ?? "packaged (LLamaSharp.Backend.Cpu)",
};
try
{
    var model = Text("--model") ?? Synth(Path.Combine(work, "model.gguf"));
    report["model"] = new JsonObject { ["file"] = Path.GetFileName(model), ["bytes"] = new FileInfo(model).Length };
    var sios = FindSios();
    var results = new Dictionary<string, List<JsonObject>>();
    using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(10) };
    var (siosServer, key) = await ServerProcess.SiosAsync(sios, work, model, threads, 1024);
    using (siosServer)
    {
        ServerProcess? llama = null;
        if (peer is not null && File.Exists(peer))
        {
            llama = await ServerProcess.LlamaServerAsync(peer, model, threads, 1024 * Streams, Streams);
        }
        else
        {
            report["peer"] = peer is null ? "not given (--llama-server or SIOS_LLAMA_SERVER)" : $"{peer} does not exist";
        }

        using (llama)
        {
            var servers = new List<(ServerProcess Server, string? Key)> { (siosServer, key) };
            if (llama is not null)
            {
                servers.Add((llama, null));
            }

            foreach (var (server, k) in servers)
            {
                // A whole-length warm-up each, so neither server's first measured run pays for its own first use.
                await Client.StreamAsync(http, server, k, Client.Prompt("warm up", promptTokens), tokens);
                results[server.Name] = [];
            }

            for (var run = 0; run < runs; run++)
            {
                Console.Error.WriteLine($"run {run + 1} of {runs} ...");
                var order = run % 2 == 0 ? servers : [.. Enumerable.Reverse(servers)];
                foreach (var (server, k) in order)
                {
                    var one = await Client.StreamAsync(http, server, k, Client.Prompt($"run {run} one", promptTokens), tokens);
                    var clock = Stopwatch.StartNew();
                    var four = await Task.WhenAll(Enumerable.Range(0, Streams).Select(i => Client.StreamAsync(http, server, k, Client.Prompt($"run {run} many {i}", promptTokens), tokens)));
                    var wall = clock.Elapsed.TotalSeconds;
                    results[server.Name].Add(new JsonObject
                    {
                        ["prompt_tokens"] = one.PromptTokens,
                        ["first_token_ms"] = Math.Round(one.FirstTokenMs, 1),
                        ["decode_tokens_per_second"] = Math.Round(one.DecodeTokensPerSecond, 2),
                        ["four_streams_tokens_per_second"] = Math.Round(four.Sum(f => f.CompletionTokens) / wall, 2),
                        ["four_streams_completion_tokens"] = new JsonArray([.. four.Select(f => (JsonNode)f.CompletionTokens)]),
                        ["four_streams_first_token_ms"] = new JsonArray([.. four.Select(f => (JsonNode)Math.Round(f.FirstTokenMs, 1))]),
                        ["four_streams_seconds"] = Math.Round(wall, 2),
                    });
                }
            }
        }
    }

    foreach (var (name, rows) in results)
    {
        report[name] = Summary(rows);
    }

    if (results.TryGetValue("llama-server", out var theirs))
    {
        var ours = results["sios"];
        report["ratios_sios_to_llama_server"] = new JsonObject
        {
            ["first_token_time"] = Ratio(ours, theirs, "first_token_ms"),
            ["one_stream_decode"] = Ratio(ours, theirs, "decode_tokens_per_second"),
            ["four_streams_throughput"] = Ratio(ours, theirs, "four_streams_tokens_per_second"),
        };
    }

    // The floor: the same weights decoded by a bare llama.cpp loop in this process, no server, nothing sealed.
    using var loaded = await LlamaModel.LoadAsync(model);
    await using var engine = loaded.CreateEngine(new LlamaEngineOptions { ContextSize = 1024, Threads = threads, MaxParallel = 1, ModelDigest = "sha256:bench" });
    var (bare, _) = await LlamaBench.CompareAsync(engine, [new ChatMessage("user", Client.Prompt("bare", promptTokens))], tokens, runs);
    report["bare_loop"] = new JsonObject
    {
        ["prompt_tokens_per_second"] = Math.Round(bare.PromptTokensPerSecond, 1),
        ["generation_tokens_per_second"] = Math.Round(bare.GenerationTokensPerSecond, 2),
    };

    // The serving engine alone, four streams in this process: what the server adds is the difference.
    await using var parallelEngine = loaded.CreateEngine(new LlamaEngineOptions { ContextSize = 1024, Threads = threads, MaxParallel = Streams, ModelDigest = "sha256:bench" });
    var inProcess = new List<double>();
    for (var run = 0; run < runs; run++)
    {
        inProcess.Add((await LlamaBench.ConcurrentAsync(parallelEngine, [new ChatMessage("user", Client.Prompt($"engine {run}", promptTokens))], Streams, tokens)).TokensPerSecond);
    }

    report["engine_in_process"] = new JsonObject { ["median_four_streams_tokens_per_second"] = Math.Round(inProcess.Order().ElementAt(inProcess.Count / 2), 2) };
}
finally
{
    Directory.Delete(work, recursive: true);
}

Console.WriteLine(report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
return 0;

string Synth(string path)
{
    Console.Error.WriteLine("writing the model ...");
    TinyModelSynth.WriteModel(path, quick
        ? new TinyModelOptions { Seed = 5 }
        : new TinyModelOptions { Layers = 16, Embedding = 1024, Heads = 16, KvHeads = 16, FeedForward = 2816, Context = 4096, F16 = true, Seed = 5 });
    return path;
}

static string FindSios()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        var dll = Path.Combine(dir.FullName, "src", "Sios.Cli", "bin", "Release", "net10.0", "sios.dll");
        if (File.Exists(Path.Combine(dir.FullName, "Sios.sln")))
        {
            return File.Exists(dll) ? dll : throw new InvalidOperationException($"{dll} is missing: run 'dotnet build -c Release' first");
        }
    }

    throw new InvalidOperationException("the repository (Sios.sln) was not found above this program");
}

static JsonObject Summary(List<JsonObject> rows)
{
    var summary = new JsonObject { ["runs"] = new JsonArray([.. rows.Select(r => (JsonNode)r.DeepClone())]) };
    foreach (var field in new[] { "first_token_ms", "decode_tokens_per_second", "four_streams_tokens_per_second" })
    {
        summary[$"median_{field}"] = Median(rows, field);
    }

    return summary;
}

static double Median(List<JsonObject> rows, string field)
{
    var sorted = rows.Select(r => r[field]!.GetValue<double>()).Order().ToArray();
    return sorted[sorted.Length / 2];
}

static double Ratio(List<JsonObject> ours, List<JsonObject> theirs, string field) =>
    Math.Round(Median(ours, field) / Median(theirs, field), 3);

int Option(string name, int fallback) => Text(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

string? Text(string name)
{
    var at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
}

/// <summary>One streaming client of an OpenAI chat API, as users drive both servers.</summary>
internal static class Client
{
    /// <summary>A prompt of about <paramref name="tokens"/> tokens on a byte-vocabulary model, unique by <paramref name="tag"/> so no cache can serve it.</summary>
    public static string Prompt(string tag, int tokens)
    {
        var text = new StringBuilder($"[{tag} {Guid.NewGuid():N}] ");
        while (text.Length < tokens - 12)
        {
            text.Append("Explain the append-only log and its checkpoints. ");
        }

        return text.ToString(0, Math.Max(8, tokens - 12));
    }

    public static async Task<StreamResult> StreamAsync(HttpClient http, ServerProcess server, string? key, string prompt, int maxTokens)
    {
        var body = new JsonObject
        {
            ["model"] = server.Name == "sios" ? "peer" : "model",
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = prompt }),
            ["max_tokens"] = maxTokens,
            ["stream"] = true,
            ["stream_options"] = new JsonObject { ["include_usage"] = true },
            ["temperature"] = 0.8,
            ["seed"] = 1,
        };
        if (server.Name != "sios")
        {
            // Raw prompt processing, and the full length even when a random model says its end token.
            body["cache_prompt"] = false;
            body["ignore_eos"] = true;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server.Url, "v1/chat/completions"))
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        if (key is not null)
        {
            request.Headers.Authorization = new("Bearer", key);
        }

        var clock = Stopwatch.StartNew();
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        double first = -1, last = 0;
        int completion = 0, promptCount = 0, pieces = 0;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (!line.StartsWith("data: {", StringComparison.Ordinal))
            {
                continue;
            }

            using var chunk = JsonDocument.Parse(line.AsMemory(6));
            if (chunk.RootElement.TryGetProperty("choices", out var choices) && choices.GetArrayLength() > 0
                && choices[0].TryGetProperty("delta", out var delta) && delta.TryGetProperty("content", out var content)
                && content.ValueKind == JsonValueKind.String && content.GetString()!.Length > 0)
            {
                last = clock.Elapsed.TotalMilliseconds;
                first = first < 0 ? last : first;
                pieces++;
            }

            if (chunk.RootElement.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
            {
                completion = usage.GetProperty("completion_tokens").GetInt32();
                promptCount = usage.GetProperty("prompt_tokens").GetInt32();
            }
        }

        completion = completion > 0 ? completion : pieces;
        return new StreamResult(first, last, completion, promptCount);
    }
}

/// <summary>One stream's times and counts.</summary>
internal sealed record StreamResult(double FirstTokenMs, double LastTokenMs, int CompletionTokens, int PromptTokens)
{
    /// <summary>Tokens after the first over the time they took.</summary>
    public double DecodeTokensPerSecond => CompletionTokens > 1 && LastTokenMs > FirstTokenMs ? (CompletionTokens - 1) / ((LastTokenMs - FirstTokenMs) / 1000) : 0;
}
