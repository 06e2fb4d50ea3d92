using System.Text.Json;

namespace Sios.EndToEnd;

/// <summary>
/// The official npm <c>ollama</c> client (tests/interop/ollama-e2e.mjs, run by node) against the real server's Ollama
/// door: list, a streamed chat, tools, a JSON-schema format, generate and embed, every answer's receipt then verified
/// here from the recorded bytes (a stream's from the <c>sios</c> member of its last line), and the refusals in
/// Ollama's words.
/// </summary>
public sealed class NpmOllamaTests(ServedDemo demo) : IClassFixture<ServedDemo>
{
    [NpmFact]
    public async Task The_npm_ollama_client_works_unmodified_and_every_answer_verifies()
    {
        using var report = await NpmScripts.RunAsync(demo, "ollama-e2e.mjs");
        var results = report.RootElement.GetProperty("results");
        Assert.Equal(["clinical:latest", "contracts:latest", "demo-tools:latest", "demo:latest", "ledger:latest"], results.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal("0.12.10", results.GetProperty("version").GetString());
        Assert.Equal(["completion"], results.GetProperty("show").EnumerateArray().Select(c => c.GetString()));

        // The client stops at the done line and hands it over whole, receipt and all.
        var stream = results.GetProperty("stream");
        Assert.Equal("demo:latest", stream.GetProperty("model").GetString());
        Assert.Equal("length", stream.GetProperty("done_reason").GetString());
        Assert.Equal(6, stream.GetProperty("eval_count").GetInt32());
        Assert.StartsWith("/log/receipts/", stream.GetProperty("sios").GetProperty("receipt").GetString(), StringComparison.Ordinal);

        Assert.True(results.GetProperty("offered").GetProperty("done").GetBoolean());
        Assert.True(results.GetProperty("offered").GetProperty("parts").GetInt32() > 1);
        Assert.True(results.GetProperty("loop").GetProperty("done").GetBoolean());
        Assert.Contains(results.GetProperty("format").GetProperty("content").GetProperty("city").GetString(), new[] { "Paris", "Oslo", "Lima" });
        Assert.Equal("stop", results.GetProperty("format").GetProperty("done_reason").GetString());
        Assert.Equal(5, results.GetProperty("generate").GetProperty("eval_count").GetInt32());
        Assert.Equal((2, 64, "ledger"), (results.GetProperty("embed").GetProperty("count").GetInt32(), results.GetProperty("embed").GetProperty("length").GetInt32(), results.GetProperty("embed").GetProperty("model").GetString()));

        var nokey = results.GetProperty("nokey");
        Assert.Equal(401, nokey.GetProperty("status").GetInt32());
        Assert.Contains("Ollama clients send it as a header", nokey.GetProperty("error").GetString(), StringComparison.Ordinal);
        var missing = results.GetProperty("missing");
        Assert.Equal(404, missing.GetProperty("status").GetInt32());
        Assert.StartsWith("model \"demo:v2\" not found", missing.GetProperty("error").GetString(), StringComparison.Ordinal);

        var entries = await NpmScripts.VerifyExchangesAsync(demo, report);
        Assert.Equal(["ollama.chat", "ollama.chat", "ollama.chat", "ollama.chat", "ollama.generate", "ollama.embed"], entries.Select(e => e.GetProperty("api").GetString()));
        Assert.Equal([true, true, false, false, false, false], entries.Select(e => e.GetProperty("stream").GetBoolean()));
        Assert.Equal([2, 2], entries.Skip(1).Take(2).Select(e => e.GetProperty("tools").GetProperty("offered").GetInt32()));
        Assert.All(entries.Where(e => e.GetProperty("api").GetString() != "ollama.embed"), e => Assert.True(e.GetProperty("finish").GetString() is "stop" or "length"));
    }
}
