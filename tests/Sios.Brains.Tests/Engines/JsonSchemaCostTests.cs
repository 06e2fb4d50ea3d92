using System.Diagnostics;
using Sios.Brains.Engines;
using Xunit.Abstractions;

namespace Sios.Brains.Tests.Engines;

/// <summary>
/// What the worst schemas <see cref="JsonSchemaLimits"/> allows cost on the tiny model: compile time, the schema request's
/// first token (llama.cpp builds the grammar on the shared decode thread, at the first sample), and the latency of a
/// plain request another key sends meanwhile. The bounds are generous; the figures are printed for the README.
/// </summary>
[Collection(LlamaTestGroup.Name)]
public sealed class JsonSchemaCostTests(LlamaFixture fx, ITestOutputHelper output)
{
    [Theory]
    [MemberData(nameof(JsonSchemaBudgetTests.WorstAllowed), MemberType = typeof(JsonSchemaBudgetTests))]
    public async Task The_worst_allowed_schema_does_not_stall_another_request(string label, string schema)
    {
        await using var engine = fx.Model.CreateEngine(LlamaFixture.Options);
        var plain = LlamaFixture.Request(maxTokens: 16, seed: 7);
        _ = await LlamaFixture.RunAsync(engine, plain);
        var alone = Stopwatch.StartNew();
        _ = await LlamaFixture.RunAsync(engine, plain);
        alone.Stop();

        var compile = Stopwatch.StartNew();
        _ = JsonSchemaGrammar.FromSchema(schema);
        compile.Stop();

        var request = LlamaFixture.Request(maxTokens: 64, seed: 1, temperature: 1f) with { ResponseFormat = ResponseFormat.JsonSchema(schema) };
        var clock = Stopwatch.StartNew();
        TimeSpan? first = null;
        var bomb = Task.Run(async () =>
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await foreach (var update in engine.GenerateAsync(request, timeout.Token))
            {
                first ??= clock.Elapsed;
            }

            return clock.Elapsed;
        });

        // The other key's request starts as the schema request does, so it shares the decode steps the grammar slows.
        var other = Stopwatch.StartNew();
        _ = await LlamaFixture.RunAsync(engine, plain);
        other.Stop();
        var total = await bomb;

        output.WriteLine($"{label}: compile {compile.Elapsed.TotalMilliseconds:F0} ms, first token {first?.TotalMilliseconds:F0} ms, " +
            $"64 tokens {total.TotalMilliseconds:F0} ms; other request {other.Elapsed.TotalMilliseconds:F0} ms (alone {alone.Elapsed.TotalMilliseconds:F0} ms)");
        Assert.True(compile.Elapsed < TimeSpan.FromSeconds(1), $"{label}: compiling took {compile.Elapsed}");
        Assert.True(first < TimeSpan.FromSeconds(5), $"{label}: the first token took {first}");
        Assert.True(other.Elapsed < TimeSpan.FromSeconds(5), $"{label}: another request took {other.Elapsed} beside the schema request");
    }
}
