using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sios.Brains.Engines;
using Sios.Brains.Integrity;
using Sios.Brains.Synth;

// Usage: dotnet run -c Release --project bench/Sios.Bench.Brains [-- --quick] [--threads N] [--tokens N] [--rounds N]
//        [--switches N] [--digest-mib N] [--prompt-cache-only]
var quick = args.Contains("--quick");
var promptCacheOnly = args.Contains("--prompt-cache-only");
var threads = Option("--threads", Environment.ProcessorCount);
var tokens = Option("--tokens", quick ? 16 : 128);
var rounds = Option("--rounds", quick ? 1 : 5);
var switches = Option("--switches", quick ? 20 : 100);
var digestMiB = Option("--digest-mib", quick ? 32 : 512);
const int Clients = 4;
var shape = quick
    ? new TinyModelOptions { Seed = 7 }
    : new TinyModelOptions { Layers = 8, Embedding = 512, Heads = 8, KvHeads = 8, FeedForward = 1536, Context = 2048, F16 = true, Seed = 7 };

var work = Directory.CreateTempSubdirectory("sios-bench-brains-").FullName;
var report = new JsonObject
{
    ["benchmark"] = "sios-brains",
    ["quick"] = quick,
    ["machine"] = new JsonObject { ["cores"] = Environment.ProcessorCount, ["os"] = Environment.OSVersion.ToString(), ["dotnet"] = Environment.Version.ToString() },
    ["threads"] = threads,
};

try
{
    var basePath = Path.Combine(work, "base.gguf");
    TinyModelSynth.WriteModel(basePath, shape);
    var adapters = Enumerable.Range(1, 4).Select(i =>
    {
        var path = Path.Combine(work, $"lora-{i}.gguf");
        TinyModelSynth.WriteLoraAdapter(path, basePath, new LoraOptions { Seed = (ulong)i, AllAttention = i % 2 == 0 });
        return path;
    }).ToArray();
    report["model"] = new JsonObject
    {
        ["layers"] = shape.Layers, ["embedding"] = shape.Embedding, ["heads"] = shape.Heads, ["feed_forward"] = shape.FeedForward,
        ["f16"] = shape.F16, ["file_bytes"] = new FileInfo(basePath).Length, ["adapters"] = adapters.Length,
    };

    using var model = await LlamaModel.LoadAsync(basePath);
    var options = new LlamaEngineOptions { ContextSize = 1024, Threads = threads, MaxParallel = Clients, ModelDigest = "sha256:bench" };
    // Byte-level vocabulary: one token per byte, so this is a prompt of a few hundred tokens.
    ChatMessage[] messages =
    [
        new("system", "You are a careful assistant that answers in plain sentences."),
        new("user", string.Concat(Enumerable.Repeat("Summarise the transparency log design and explain each part. ", quick ? 1 : 5))),
    ];

    if (promptCacheOnly)
    {
        report["prompt_cache"] = await PromptCacheAsync();
        Console.WriteLine(report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }

    await using (var engine = model.CreateEngine(options))
    {
        Log($"engine vs bare decode loop: {tokens} tokens, {rounds} round(s), {threads} thread(s) ...");
        var (bare, viaEngine) = await LlamaBench.CompareAsync(engine, messages, tokens, rounds);

        // The serving engine keeps a KV sequence per parallel slot; one slot shows what that layout costs a lone request.
        await using var single = model.CreateEngine(options with { MaxParallel = 1 });
        var (bareAgain, viaSingle) = await LlamaBench.CompareAsync(single, messages, tokens, rounds);
        report["decode"] = new JsonObject
        {
            ["prompt_tokens"] = bare.PromptTokens,
            ["generated_tokens"] = tokens,
            ["rounds"] = rounds,
            ["bare_loop"] = Speed(bare),
            ["engine"] = Speed(viaEngine),
            ["ratio_engine_to_bare_generation"] = Round(viaEngine.GenerationTokensPerSecond / bare.GenerationTokensPerSecond, 3),
            ["ratio_engine_to_bare_prompt"] = Round(viaEngine.PromptTokensPerSecond / bare.PromptTokensPerSecond, 3),
            ["engine_max_parallel"] = options.MaxParallel,
            ["single_slot"] = new JsonObject
            {
                ["bare_loop"] = Speed(bareAgain),
                ["engine"] = Speed(viaSingle),
                ["ratio_engine_to_bare_generation"] = Round(viaSingle.GenerationTokensPerSecond / bareAgain.GenerationTokensPerSecond, 3),
                ["ratio_engine_to_bare_prompt"] = Round(viaSingle.PromptTokensPerSecond / bareAgain.PromptTokensPerSecond, 3),
            },
        };

        Log($"concurrency: {Clients} clients, batched (one decode for all) vs queued (one request at a time) ...");
        var batched = await LlamaBench.ConcurrentAsync(engine, messages, Clients, tokens);
        await using var queuedEngine = model.CreateEngine(options with { MaxParallel = 1 });
        var queued = await LlamaBench.ConcurrentAsync(queuedEngine, messages, Clients, tokens);
        report["concurrency"] = new JsonObject
        {
            ["clients"] = Clients,
            ["tokens_per_client"] = tokens,
            ["batched_tokens_per_second"] = Round(batched.TokensPerSecond, 1),
            ["batched_mean_latency_ms"] = Round(batched.MeanLatencyMs, 1),
            ["queued_tokens_per_second"] = Round(queued.TokensPerSecond, 1),
            ["queued_mean_latency_ms"] = Round(queued.MeanLatencyMs, 1),
            ["ratio_batched_to_queued"] = Round(batched.TokensPerSecond / queued.TokensPerSecond, 3),
        };
    }

    report["prompt_cache"] = await PromptCacheAsync();

    Log($"LoRA specialist switch: {switches} samples over {adapters.Length} adapters ...");
    var ready = await LlamaBench.SpecialistSwitchAsync(model, adapters, options with { MaxParallel = 1 }, switches);
    var (swap, still) = LlamaBench.ContextAdapterSwap(model, adapters, threads, switches);
    report["lora_switch"] = new JsonObject
    {
        ["base_loads"] = LlamaModel.LoadCount,
        ["adapter_loads"] = model.AdapterLoadCount,
        ["specialist_ready_ms"] = Latency(ready),
        ["warm_context_swap_and_decode_ms"] = Latency(swap),
        ["warm_context_decode_only_ms"] = Latency(still),
    };

    Log($"tool calls: grammar-constrained call vs an unconstrained answer of the same length, {rounds} round(s) ...");
    report["tool_call"] = await ToolCallBench.RunAsync(work, shape, threads, Math.Max(3, rounds));

    report["digest"] = await DigestAsync(Path.Combine(work, "digest.bin"));

    Task<JsonObject> PromptCacheAsync()
    {
        Log($"prompt cache: a {(quick ? 6 : 10)}-turn conversation, time to first token with and without ...");
        return PromptCacheBench.RunAsync(model, options with { ContextSize = shape.Context, MaxParallel = 1 }, quick ? 6 : 10, quick ? 8 : 24, quick ? 24 : 96);
    }
}
finally
{
    Directory.Delete(work, recursive: true);
}

Console.WriteLine(report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
return 0;

async Task<JsonObject> DigestAsync(string path)
{
    Log($"weight digest: {digestMiB} MiB file, WeightDigest vs sha256sum{(HasProgram("openssl") ? " and openssl" : "")} ...");
    WriteFile(path, digestMiB);
    var bytes = new FileInfo(path).Length;
    var programs = new List<(string Name, string File, string[] Args)> { ("sha256sum", "sha256sum", [path]) };
    if (HasProgram("openssl"))
    {
        programs.Add(("openssl", "openssl", ["dgst", "-sha256", path]));
    }

    // One untimed pass so every contender reads from the page cache, then alternating rounds; medians reported.
    var expected = await WeightDigest.ComputeAsync(path);
    var ours = new List<double>();
    var theirs = programs.ToDictionary(p => p.Name, _ => new List<double>());
    for (var round = 0; round < (quick ? 2 : 3); round++)
    {
        var sw = Stopwatch.StartNew();
        var digest = await WeightDigest.ComputeAsync(path);
        ours.Add(sw.Elapsed.TotalSeconds);
        if (digest != expected)
        {
            throw new InvalidOperationException("WeightDigest gave two different digests for the same file.");
        }

        foreach (var (name, file, programArgs) in programs)
        {
            sw.Restart();
            var output = Run(file, programArgs);
            theirs[name].Add(sw.Elapsed.TotalSeconds);
            if (!output.Contains(expected[WeightDigest.Prefix.Length..], StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"{name} disagrees with WeightDigest: {output}");
            }
        }
    }

    double Rate(List<double> seconds) => bytes / (1024.0 * 1024.0) / Median(seconds);
    var result = new JsonObject
    {
        ["file_mib"] = digestMiB,
        ["rounds"] = ours.Count,
        ["weight_digest_mib_per_second"] = Round(Rate(ours), 1),
    };
    foreach (var (name, _, _) in programs)
    {
        result[$"{name}_mib_per_second"] = Round(Rate(theirs[name]), 1);
        result[$"ratio_weight_digest_to_{name}"] = Round(Rate(ours) / Rate(theirs[name]), 3);
    }

    File.Delete(path);
    return result;
}

static void WriteFile(string path, int mib)
{
    var block = new byte[1 << 20];
    var random = new Random(11);
    using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
    for (var i = 0; i < mib; i++)
    {
        random.NextBytes(block);
        file.Write(block);
    }
}

static string Run(string file, string[] arguments)
{
    var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
    foreach (var a in arguments)
    {
        start.ArgumentList.Add(a);
    }

    using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
    var output = process.StandardOutput.ReadToEnd();
    var error = process.StandardError.ReadToEnd();
    process.WaitForExit();
    return process.ExitCode == 0 ? output : throw new InvalidOperationException($"{file} failed ({process.ExitCode}): {error}");
}

static bool HasProgram(string name) =>
    (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Any(dir => File.Exists(Path.Combine(dir, name)));

int Option(string name, int fallback)
{
    var at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
}

static void Log(string message) => Console.Error.WriteLine(message);

static double Round(double value, int digits) => Math.Round(value, digits);

static double Median(List<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted[sorted.Length / 2];
}

static JsonObject Speed(DecodeSpeed s) => new()
{
    ["prompt_tokens_per_second"] = Round(s.PromptTokensPerSecond, 1),
    ["generation_tokens_per_second"] = Round(s.GenerationTokensPerSecond, 1),
};

static JsonObject Latency(LatencyMs l) => new()
{
    ["samples"] = l.Count,
    ["p50"] = Round(l.P50, 3),
    ["p99"] = Round(l.P99, 3),
    ["max"] = Round(l.Max, 3),
};
