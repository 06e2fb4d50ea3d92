using System.Diagnostics;
using System.Text.Json.Nodes;
using Sios.Brains.Engines;

/// <summary>
/// A conversation of several turns, each turn's time to first token measured with prompt caching and without it (two
/// engines on one model, run one after the other, the order alternating by turn): with the cache a turn decodes only what
/// it adds to the conversation.
/// </summary>
internal static class PromptCacheBench
{
    public static async Task<JsonObject> RunAsync(LlamaModel model, LlamaEngineOptions options, int turns, int answerTokens, int userBytes)
    {
        await using var cached = model.CreateEngine(options);
        await using var uncached = model.CreateEngine(options with { PromptCache = false });
        var messages = new List<ChatMessage> { new("system", "You are a careful assistant that answers in plain sentences.") };
        var rows = new JsonArray();
        var withCache = new List<double>();
        var without = new List<double>();
        for (var turn = 0; turn < turns; turn++)
        {
            messages.Add(new ChatMessage("user", Question(turn, userBytes)));
            var request = new ChatRequest { Messages = [.. messages], MaxTokens = answerTokens, Temperature = 0, Seed = 1, CacheScope = "key:bench" };
            (double Ms, string Text, Usage Usage) a, b;
            if (turn % 2 == 0)
            {
                a = await FirstTokenAsync(cached, request);
                b = await FirstTokenAsync(uncached, request);
            }
            else
            {
                b = await FirstTokenAsync(uncached, request);
                a = await FirstTokenAsync(cached, request);
            }

            if (a.Text != b.Text)
            {
                throw new InvalidOperationException($"turn {turn}: the cached engine answered differently from the uncached one");
            }

            withCache.Add(a.Ms);
            without.Add(b.Ms);
            rows.Add(new JsonObject
            {
                ["turn"] = turn + 1,
                ["prompt_tokens"] = a.Usage.PromptTokens,
                ["cached_tokens"] = a.Usage.CachedTokens,
                ["first_token_ms_cached"] = Math.Round(a.Ms, 2),
                ["first_token_ms_uncached"] = Math.Round(b.Ms, 2),
            });
            messages.Add(new ChatMessage("assistant", a.Text));
        }

        var later = Enumerable.Range(1, turns - 1).ToList();
        return new JsonObject
        {
            ["turns"] = turns,
            ["answer_tokens"] = answerTokens,
            ["per_turn"] = rows,
            ["median_first_token_ms_cached_turns_2_on"] = Math.Round(Median(later.Select(i => withCache[i])), 2),
            ["median_first_token_ms_uncached_turns_2_on"] = Math.Round(Median(later.Select(i => without[i])), 2),
            ["ratio_cached_to_uncached_first_token_turns_2_on"] = Math.Round(Median(later.Select(i => withCache[i] / without[i])), 3),
        };
    }

    private static string Question(int turn, int bytes)
    {
        var text = $"Question {turn + 1}: explain the next part of the design, and why it is built that way. ";
        while (text.Length < bytes)
        {
            text += text;
        }

        return text[..bytes];
    }

    /// <summary>Milliseconds to the first update of the stream, the whole answer and its usage.</summary>
    private static async Task<(double Ms, string Text, Usage Usage)> FirstTokenAsync(LlamaEngine engine, ChatRequest request)
    {
        var clock = Stopwatch.StartNew();
        double first = -1;
        var text = new System.Text.StringBuilder();
        Usage? usage = null;
        await foreach (var update in engine.GenerateAsync(request, CancellationToken.None))
        {
            if (first < 0)
            {
                first = clock.Elapsed.TotalMilliseconds;
            }

            text.Append(update.Text);
            usage = update.Usage ?? usage;
        }

        return (first, text.ToString(), usage ?? throw new InvalidOperationException("the stream gave no usage"));
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
