using System.Text.Json;
using Sios.Brains.Engines;

namespace Sios.Brains.Tests.Engines;

[Collection(LlamaTestGroup.Name)]
public sealed class LlamaEngineTests(LlamaFixture fx)
{
    [Fact]
    public async Task Chat_streams_tokens_with_usage_and_ends_with_length_at_max_tokens()
    {
        await using var engine = fx.Model.CreateEngine(LlamaFixture.Options);
        var (text, final, updates) = await LlamaFixture.RunAsync(engine, LlamaFixture.Request(maxTokens: 20));

        Assert.Equal(FinishReason.Length, final.FinishReason);
        Assert.NotNull(final.Usage);
        Assert.True(final.Usage.PromptTokens > 10, $"prompt tokens {final.Usage.PromptTokens}");
        Assert.Equal(20, final.Usage.CompletionTokens);
        Assert.True(updates > 2, "tokens should arrive as several updates");
        Assert.False(string.IsNullOrEmpty(text));
        Assert.Equal("sha256:test", engine.ModelDigest);
    }

    [Fact]
    public async Task Prompt_is_rendered_with_the_models_chatml_template()
    {
        await using var engine = fx.Model.CreateEngine(LlamaFixture.Options);
        var prompt = engine.RenderPrompt([new ChatMessage("user", "hi")]);
        Assert.Equal("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", prompt);
    }

    [Fact]
    public async Task Same_seed_and_temperature_give_the_same_text()
    {
        await using var engine = fx.Model.CreateEngine(LlamaFixture.Options);
        var a = await LlamaFixture.RunAsync(engine, LlamaFixture.Request(seed: 7));
        var b = await LlamaFixture.RunAsync(engine, LlamaFixture.Request(seed: 7));
        var c = await LlamaFixture.RunAsync(engine, LlamaFixture.Request(seed: 8));

        Assert.Equal(a.Text, b.Text);
        Assert.NotEqual(a.Text, c.Text);
    }

    [Fact]
    public async Task Stop_sequence_ends_with_stop_and_is_not_emitted()
    {
        await using var engine = fx.Model.CreateEngine(LlamaFixture.Options);
        var full = await LlamaFixture.RunAsync(engine, LlamaFixture.Request(maxTokens: 40, seed: 5));
        var stop = full.Text.Substring(12, 3);
        var cut = full.Text.IndexOf(stop, StringComparison.Ordinal);

        var stopped = await LlamaFixture.RunAsync(engine, LlamaFixture.Request(maxTokens: 40, seed: 5) with { Stop = ["\u0001never", stop] });

        Assert.Equal(FinishReason.Stop, stopped.Final.FinishReason);
        Assert.Equal(full.Text[..cut], stopped.Text);
        Assert.DoesNotContain(stop, stopped.Text, StringComparison.Ordinal);
        Assert.Equal(cut + stop.Length, stopped.Final.Usage!.CompletionTokens);
    }

    [Fact]
    public async Task Json_object_output_parses_as_a_json_object()
    {
        await using var engine = fx.Model.CreateEngine(LlamaFixture.Options);
        foreach (var seed in new uint[] { 1, 2, 3 })
        {
            var request = LlamaFixture.Request(maxTokens: 400, seed: seed, temperature: 1f) with { ResponseFormat = ResponseFormat.JsonObject };
            var (text, final, _) = await LlamaFixture.RunAsync(engine, request);

            Assert.Equal(FinishReason.Stop, final.FinishReason);
            using var doc = JsonDocument.Parse(text);
            Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
        }
    }

    [Fact]
    public async Task Json_schema_output_follows_the_schema()
    {
        const string schema = """
            {
              "type": "object",
              "properties": {
                "mood": { "enum": ["calm", "busy", "tired"] },
                "count": { "type": "integer" },
                "ok": { "type": "boolean" },
                "tags": { "type": "array", "items": { "type": "string", "maxLength": 4 }, "maxItems": 2 },
                "note": { "type": ["string", "null"], "maxLength": 6 }
              },
              "required": ["mood", "count", "ok", "tags"]
            }
            """;
        await using var engine = fx.Model.CreateEngine(LlamaFixture.Options);
        foreach (var seed in new uint[] { 1, 2, 3 })
        {
            var request = LlamaFixture.Request(maxTokens: 200, seed: seed, temperature: 1f) with { ResponseFormat = ResponseFormat.JsonSchema(schema) };
            var (text, final, _) = await LlamaFixture.RunAsync(engine, request);

            Assert.Equal(FinishReason.Stop, final.FinishReason);
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            Assert.Contains(root.GetProperty("mood").GetString(), new[] { "calm", "busy", "tired" });
            Assert.Equal(JsonValueKind.Number, root.GetProperty("count").ValueKind);
            Assert.True(root.GetProperty("count").TryGetInt64(out _));
            Assert.True(root.GetProperty("ok").ValueKind is JsonValueKind.True or JsonValueKind.False);
            var tags = root.GetProperty("tags");
            Assert.InRange(tags.GetArrayLength(), 0, 2);
            Assert.All(tags.EnumerateArray(), t => Assert.InRange(t.GetString()!.Length, 0, 4));
            Assert.All(root.EnumerateObject(), p => Assert.Contains(p.Name, new[] { "mood", "count", "ok", "tags", "note" }));
        }
    }

    [Fact]
    public async Task Cancellation_mid_stream_ends_the_stream_and_frees_the_slot()
    {
        await using var engine = fx.Model.CreateEngine(LlamaFixture.Options with { MaxParallel = 1 });
        using var cts = new CancellationTokenSource();
        var received = 0;
        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var u in engine.GenerateAsync(LlamaFixture.Request(maxTokens: 480), cts.Token))
            {
                received += u.Text.Length;
                if (received > 0)
                {
                    cts.Cancel();
                }
            }
        });

        Assert.True(received < 480, $"received {received} characters after cancelling");
        var next = await LlamaFixture.RunAsync(engine, LlamaFixture.Request(maxTokens: 5));
        Assert.Equal(5, next.Final.Usage!.CompletionTokens);
    }

    [Fact]
    public async Task Abandoned_streams_release_their_sequences()
    {
        await using var engine = fx.Model.CreateEngine(LlamaFixture.Options with { MaxParallel = 2 });
        for (var i = 0; i < 5; i++)
        {
            await foreach (var u in engine.GenerateAsync(LlamaFixture.Request(maxTokens: 400, seed: (uint)i), CancellationToken.None))
            {
                break;
            }
        }

        var (_, final, _) = await LlamaFixture.RunAsync(engine, LlamaFixture.Request(maxTokens: 8));
        Assert.Equal(8, final.Usage!.CompletionTokens);
    }

    [Fact]
    public async Task Four_concurrent_requests_on_one_model_all_complete()
    {
        await using var engine = fx.Model.CreateEngine(LlamaFixture.Options);
        var runs = Enumerable.Range(0, 4)
            .Select(i => Task.Run(() => LlamaFixture.RunAsync(engine, LlamaFixture.Request(maxTokens: 16 + i, seed: (uint)i))))
            .ToArray();
        var results = await Task.WhenAll(runs);

        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(FinishReason.Length, results[i].Final.FinishReason);
            Assert.Equal(16 + i, results[i].Final.Usage!.CompletionTokens);
        }

        var six = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => LlamaFixture.RunAsync(engine, LlamaFixture.Request(maxTokens: 4, seed: (uint)i))));
        Assert.All(six, r => Assert.Equal(4, r.Final.Usage!.CompletionTokens));
    }

    [Fact]
    public async Task Embeddings_have_the_model_width_are_unit_length_and_deterministic()
    {
        await using var engine = fx.Model.CreateEngine(LlamaFixture.Options);
        var first = (await engine.EmbedAsync(["the weights are the system", "something else"], CancellationToken.None)).Vectors;
        var again = (await engine.EmbedAsync(["the weights are the system"], CancellationToken.None)).Vectors;

        Assert.Equal(2, first.Length);
        Assert.Equal(64, first[0].Length);
        Assert.Equal(engine.EmbeddingSize, first[1].Length);
        Assert.Equal(first[0], again[0]);
        Assert.NotEqual(first[0], first[1]);
        Assert.InRange(first[0].Sum(v => (double)v * v), 0.999, 1.001);
        await Assert.ThrowsAsync<ArgumentException>(() => engine.EmbedAsync([""], CancellationToken.None));
    }

    [Fact]
    public async Task Prompt_longer_than_the_context_is_refused()
    {
        await using var engine = fx.Model.CreateEngine(LlamaFixture.Options with { ContextSize = 64 });
        var request = LlamaFixture.Request() with { Messages = [new ChatMessage("user", new string('x', 200))] };
        await Assert.ThrowsAsync<ContextWindowExceededException>(() => LlamaFixture.RunAsync(engine, request));
    }

    [Fact]
    public async Task Invalid_requests_are_refused_before_generation()
    {
        await using var engine = fx.Model.CreateEngine(LlamaFixture.Options);
        await Assert.ThrowsAnyAsync<ArgumentException>(() => LlamaFixture.RunAsync(engine, LlamaFixture.Request() with { MaxTokens = 0 }));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => LlamaFixture.RunAsync(engine, LlamaFixture.Request() with { TopP = 0 }));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => LlamaFixture.RunAsync(engine, LlamaFixture.Request() with { Messages = [] }));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => LlamaFixture.RunAsync(engine, LlamaFixture.Request() with { ResponseFormat = ResponseFormat.JsonSchema("{not json") }));
    }

    [Fact]
    public async Task Disposing_the_engine_ends_running_streams_with_an_error()
    {
        // A generation far longer than the time between its first token and the dispose, even on a loaded machine.
        var engine = fx.Model.CreateEngine(LlamaFixture.Options with { ContextSize = 16_384, MaxParallel = 1 });
        var stream = engine.GenerateAsync(LlamaFixture.Request(maxTokens: 16_000), CancellationToken.None).GetAsyncEnumerator();
        Assert.True(await stream.MoveNextAsync());
        await engine.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () =>
        {
            while (await stream.MoveNextAsync())
            {
            }
        });
        await stream.DisposeAsync();
    }
}
