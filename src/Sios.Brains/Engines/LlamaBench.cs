using System.Diagnostics;
using System.Text;
using LLama.Common;
using LLama.Native;

namespace Sios.Brains.Engines;

/// <summary>Throughput of one way of decoding: prompt and generation tokens per second.</summary>
/// <param name="PromptTokens">Prompt length.</param>
/// <param name="GeneratedTokens">Tokens generated.</param>
/// <param name="PromptTokensPerSecond">Prompt processing speed (median of the rounds).</param>
/// <param name="GenerationTokensPerSecond">Generation speed (median of the rounds).</param>
public sealed record DecodeSpeed(int PromptTokens, int GeneratedTokens, double PromptTokensPerSecond, double GenerationTokensPerSecond);

/// <summary>Latency distribution in milliseconds.</summary>
/// <param name="Count">Samples taken.</param>
/// <param name="P50">Median.</param>
/// <param name="P99">99th percentile.</param>
/// <param name="Max">Largest sample.</param>
public sealed record LatencyMs(int Count, double P50, double P99, double Max);

/// <summary>
/// Measurements of the llama.cpp engine against a bare LLamaSharp decode loop on the same weights and threads,
/// for the benchmark to print; nothing here asserts a figure.
/// </summary>
public static class LlamaBench
{
    /// <summary>
    /// Greedy generation of <paramref name="tokens"/> tokens after the chat prompt <paramref name="messages"/>, by a
    /// bare loop (one context, argmax over the logits, one llama_decode per token) and through
    /// <paramref name="engine"/>, alternating for <paramref name="rounds"/> rounds after a warm-up.
    /// </summary>
    public static async Task<(DecodeSpeed Bare, DecodeSpeed Engine)> CompareAsync(
        LlamaEngine engine, IReadOnlyList<ChatMessage> messages, int tokens, int rounds, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(engine);
        var prompt = engine.RenderPrompt(messages);
        var bare = new List<(double Prompt, double Gen, int PromptTokens)>();
        var viaEngine = new List<(double Prompt, double Gen, int PromptTokens)>();
        var request = new ChatRequest { Messages = messages, MaxTokens = tokens, Temperature = 0, Seed = 1 };
        for (var round = -1; round < rounds; round++)
        {
            var b = BareLoop(engine, prompt, tokens);
            var e = await ThroughEngineAsync(engine, request, ct).ConfigureAwait(false);
            if (round >= 0)
            {
                bare.Add(b);
                viaEngine.Add(e);
            }
        }

        return (Summarise(bare, tokens), Summarise(viaEngine, tokens));
    }

    /// <summary>Aggregate generation tokens per second and mean request latency for <paramref name="concurrent"/> simultaneous requests.</summary>
    public static async Task<(double TokensPerSecond, double MeanLatencyMs)> ConcurrentAsync(
        IBrainEngine engine, IReadOnlyList<ChatMessage> messages, int concurrent, int tokens, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(engine);
        var total = Stopwatch.StartNew();
        var latencies = await Task.WhenAll(Enumerable.Range(0, concurrent).Select(i => Task.Run(async () =>
        {
            var sw = Stopwatch.StartNew();
            var request = new ChatRequest { Messages = messages, MaxTokens = tokens, Temperature = 0.8f, Seed = (uint)i };
            await foreach (var _ in engine.GenerateAsync(request, ct).ConfigureAwait(false))
            {
            }

            return sw.Elapsed.TotalMilliseconds;
        }, ct))).ConfigureAwait(false);
        return (concurrent * tokens / total.Elapsed.TotalSeconds, latencies.Average());
    }

    /// <summary>
    /// Time for a specialist to become ready on an already-loaded base (context created, adapter set), cycling
    /// through <paramref name="adapters"/> (each loaded once beforehand), <paramref name="switches"/> times.
    /// </summary>
    public static async Task<LatencyMs> SpecialistSwitchAsync(LlamaModel model, IReadOnlyList<string> adapters, LlamaEngineOptions options, int switches)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(adapters);
        foreach (var a in adapters)
        {
            model.GetAdapter(a);
        }

        var samples = new List<double>(switches);
        for (var i = 0; i < switches; i++)
        {
            var sw = Stopwatch.StartNew();
            var specialist = model.CreateSpecialist(adapters[i % adapters.Count], 1f, options);
            samples.Add(sw.Elapsed.TotalMilliseconds);
            await specialist.DisposeAsync().ConfigureAwait(false);
        }

        return Latency(samples);
    }

    /// <summary>
    /// Time to swap the adapter of one live context (llama_set_adapters_lora) and decode one token with it, against
    /// the same one-token decode with no swap; the difference is what switching costs on a warm context.
    /// </summary>
    public static (LatencyMs Swap, LatencyMs NoSwap) ContextAdapterSwap(LlamaModel model, IReadOnlyList<string> adapters, int threads, int switches)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(adapters);
        var loaded = adapters.Select(model.GetAdapter).ToArray();
        using var context = model.Weights.CreateContext(new ModelParams(model.Path)
        {
            ContextSize = 256, BatchSize = 64, UBatchSize = 64, SeqMax = 1, Threads = threads, BatchThreads = threads,
        });
        var handle = context.NativeHandle;
        var batch = new LLamaBatch();
        var token = model.Weights.Vocab.Newline ?? new LLamaToken();
        var swap = new List<double>(switches);
        var still = new List<double>(switches);
        for (var i = -1; i < switches; i++)
        {
            var sw = Stopwatch.StartNew();
            handle.SetLoraAdapters((loaded[(i + loaded.Length) % loaded.Length], 1f));
            DecodeOne(handle, batch, token);
            var swapped = sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            DecodeOne(handle, batch, token);
            if (i >= 0)
            {
                swap.Add(swapped);
                still.Add(sw.Elapsed.TotalMilliseconds);
            }
        }

        return (Latency(swap), Latency(still));
    }

    private static void DecodeOne(SafeLLamaContextHandle handle, LLamaBatch batch, LLamaToken token)
    {
        handle.MemoryClear(true);
        batch.Clear();
        batch.Add(token, 0, LLamaSeqId.Zero, true);
        if (handle.Decode(batch) != DecodeResult.Ok)
        {
            throw new InferenceException("The benchmark decode failed.");
        }
    }

    private static (double Prompt, double Gen, int PromptTokens) BareLoop(LlamaEngine engine, string prompt, int tokens)
    {
        var weights = engine.Model.Weights;
        var promptTokens = weights.NativeHandle.Tokenize(prompt, weights.Vocab.ShouldAddBOS, true, Encoding.UTF8);
        using var context = weights.CreateContext(new ModelParams(engine.Model.Path)
        {
            ContextSize = (uint)(promptTokens.Length + tokens + 16),
            BatchSize = 512,
            UBatchSize = 512,
            SeqMax = 1,
            Threads = engine.Threads,
            BatchThreads = engine.Threads,
        });
        var handle = context.NativeHandle;
        var batch = new LLamaBatch();
        var sw = Stopwatch.StartNew();
        batch.AddRange(promptTokens, 0, LLamaSeqId.Zero, true);
        Check(handle.Decode(batch));
        var promptSeconds = sw.Elapsed.TotalSeconds;
        var logitsAt = batch.TokenCount - 1;
        sw.Restart();
        for (var i = 0; i < tokens; i++)
        {
            var next = ArgMax(handle.GetLogitsIth(logitsAt));
            batch.Clear();
            logitsAt = batch.Add(next, promptTokens.Length + i, LLamaSeqId.Zero, true);
            Check(handle.Decode(batch));
        }

        return (promptTokens.Length / promptSeconds, tokens / sw.Elapsed.TotalSeconds, promptTokens.Length);
    }

    private static async Task<(double Prompt, double Gen, int PromptTokens)> ThroughEngineAsync(LlamaEngine engine, ChatRequest request, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        double firstAt = 0;
        Usage? usage = null;
        await foreach (var update in engine.GenerateAsync(request, ct).ConfigureAwait(false))
        {
            if (firstAt == 0)
            {
                firstAt = sw.Elapsed.TotalSeconds;
            }

            usage = update.Usage ?? usage;
        }

        var total = sw.Elapsed.TotalSeconds;
        var generated = usage?.CompletionTokens ?? 0;

        // The first update arrives after the prompt and the first sampled token, so the generation rate is taken
        // over the remaining tokens and the prompt rate over everything before the first update.
        return (usage!.PromptTokens / firstAt, Math.Max(1, generated - 1) / (total - firstAt), usage.PromptTokens);
    }

    private static LLamaToken ArgMax(ReadOnlySpan<float> logits)
    {
        var best = 0;
        for (var i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best])
            {
                best = i;
            }
        }

        return best;
    }

    private static void Check(DecodeResult result)
    {
        if (result != DecodeResult.Ok)
        {
            throw new InferenceException($"The benchmark decode failed ({result}).");
        }
    }

    private static DecodeSpeed Summarise(List<(double Prompt, double Gen, int PromptTokens)> rounds, int tokens) => new(
        rounds[0].PromptTokens, tokens, Median(rounds.Select(r => r.Prompt)), Median(rounds.Select(r => r.Gen)));

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted[sorted.Length / 2];
    }

    private static LatencyMs Latency(List<double> samples)
    {
        var sorted = samples.Order().ToArray();
        double At(double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        return new LatencyMs(sorted.Length, At(0.5), At(0.99), sorted[^1]);
    }
}
