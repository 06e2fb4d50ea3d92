using System.Diagnostics;
using System.Text.Json.Nodes;
using Sios.Brains.Engines;
using Sios.Brains.Synth;

/// <summary>
/// The added cost of a grammar-constrained tool call: the same prompt (tools offered either way), once with
/// <c>tool_choice: required</c> (every token sampled under the call grammar) and once unconstrained for exactly as
/// many tokens, timed from the first token to the last so the shared prompt's prefill is left out.
/// </summary>
internal static class ToolCallBench
{
    private static readonly ToolDefinition[] s_tools =
    [
        new("get_weather", "The weather in a city", """{"type":"object","properties":{"city":{"type":"string","enum":["Paris","Oslo","Lima"]},"days":{"type":"integer"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["city","days","unit"]}"""),
        new("search", "Searches the archive", """{"type":"object","properties":{"query":{"type":"string","maxLength":40},"limit":{"type":"integer"}},"required":["query"]}"""),
    ];

    public static async Task<JsonObject> RunAsync(string work, TinyModelOptions shape, int threads, int rounds)
    {
        var path = Path.Combine(work, "tools.gguf");
        TinyModelSynth.WriteModel(path, shape with { Template = ToolTemplate.HermesChatMl, Context = 8192 });
        await using var engine = await LlamaEngine.LoadAsync(path, new LlamaEngineOptions { ContextSize = 8192, Threads = threads, MaxParallel = 1, ModelDigest = "sha256:bench" });
        var constrained = new List<double>();
        var free = new List<double>();
        var tokens = new List<int>();
        for (var round = 0; round < rounds; round++)
        {
            var request = new ChatRequest
            {
                Messages = [new ChatMessage("user", "What is the weather in Paris for the next three days?")],
                Tools = s_tools,
                ToolMode = ToolMode.Required,
                ParallelToolCalls = false,
                MaxTokens = 600,
                Temperature = 1f,
                Seed = (uint)(round + 1),
            };
            var (perToken, completion) = await TimeAsync(engine, request);
            constrained.Add(perToken);
            tokens.Add(completion);
            // Random weights may end a free answer early; other seeds are tried until one runs the full length.
            for (var seed = 1000u; ; seed++)
            {
                var (freePerToken, freeCompletion) = await TimeAsync(engine, request with { ToolMode = ToolMode.None, MaxTokens = completion, Seed = seed });
                if (freeCompletion == completion)
                {
                    free.Add(freePerToken);
                    break;
                }

                if (seed > 1050)
                {
                    throw new InvalidOperationException($"no unconstrained answer ran {completion} tokens");
                }
            }
        }

        var c = Median(constrained);
        var f = Median(free);
        return new JsonObject
        {
            ["rounds"] = rounds,
            ["call_tokens_median"] = Median(tokens.Select(t => (double)t).ToList()),
            ["constrained_ms_per_token_median"] = Math.Round(c, 3),
            ["unconstrained_ms_per_token_median"] = Math.Round(f, 3),
            ["ratio_constrained_to_unconstrained"] = Math.Round(c / f, 3),
            ["vocabulary"] = engine.Model.Weights.Vocab.Count,
        };
    }

    /// <summary>Milliseconds per generated token after the first, and the completion tokens.</summary>
    private static async Task<(double PerToken, int Completion)> TimeAsync(LlamaEngine engine, ChatRequest request)
    {
        long? first = null;
        GenerationUpdate? final = null;
        await foreach (var update in engine.GenerateAsync(request, CancellationToken.None))
        {
            first ??= Stopwatch.GetTimestamp();
            final = update.IsFinal ? update : final;
        }

        var completion = final!.Usage!.CompletionTokens;
        return (Stopwatch.GetElapsedTime(first!.Value).TotalMilliseconds / Math.Max(1, completion - 1), completion);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
