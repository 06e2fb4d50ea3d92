using System.Text.Json;

namespace Sios.EndToEnd;

/// <summary>
/// Anthropic's official npm SDK (tests/interop/anthropic-e2e.mjs) against the real server through <c>/v1/messages</c>:
/// plain and streamed messages, tool use (forced, streamed, fed back), models in Anthropic's shape and its error
/// shape; every answer's receipt verified here from the recorded bytes.
/// </summary>
public sealed class NpmAnthropicTests(ServedDemo demo) : IClassFixture<ServedDemo>
{
    [NpmFact]
    public async Task Anthropics_sdk_works_unmodified_and_every_answer_verifies()
    {
        using var report = await NpmScripts.RunAsync(demo, "anthropic-e2e.mjs");
        var results = report.RootElement.GetProperty("results");
        Assert.Contains(results.GetProperty("models").EnumerateArray(), m => m.GetProperty("id").GetString() == "demo-tools" && m.GetProperty("type").GetString() == "model");

        var plain = results.GetProperty("plain");
        Assert.Equal(("message", "assistant"), (plain.GetProperty("type").GetString(), plain.GetProperty("role").GetString()));
        Assert.Contains(plain.GetProperty("stop").GetString(), new[] { "end_turn", "max_tokens" });
        Assert.True(plain.GetProperty("usage").GetProperty("input_tokens").GetInt32() > 0);
        Assert.StartsWith("msg_", plain.GetProperty("id").GetString(), StringComparison.Ordinal);

        var stream = results.GetProperty("stream");
        Assert.True(stream.GetProperty("same").GetBoolean(), "the streamed text deltas do not join to the final message's text");
        Assert.True(stream.GetProperty("usage").GetProperty("output_tokens").GetInt32() > 0);
        Assert.True(stream.GetProperty("usage").GetProperty("input_tokens").GetInt32() > 0);

        var tool = results.GetProperty("tool");
        Assert.Equal(("tool_use", "get_weather"), (tool.GetProperty("stop").GetString(), tool.GetProperty("name").GetString()));
        AssertWeather(tool.GetProperty("input"));

        var streamTool = results.GetProperty("streamTool");
        Assert.Equal("tool_use", streamTool.GetProperty("stop").GetString());
        Assert.True(streamTool.GetProperty("partials").GetInt32() > 1, "the tool input did not stream in pieces");
        if (streamTool.GetProperty("name").GetString() == "get_weather")
        {
            AssertWeather(streamTool.GetProperty("input"));
        }
        else
        {
            Assert.Equal(JsonValueKind.Number, streamTool.GetProperty("input").GetProperty("a").ValueKind);
        }

        Assert.DoesNotContain("tool_use", results.GetProperty("loop").GetProperty("blocks").EnumerateArray().Select(b => b.GetString()));

        var refused = results.GetProperty("refused");
        Assert.Equal((400, "error", "invalid_request_error"), (refused.GetProperty("status").GetInt32(), refused.GetProperty("type").GetString(), refused.GetProperty("errorType").GetString()));
        Assert.Contains("max_tokens", refused.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal((401, "authentication_error"), (results.GetProperty("badKey").GetProperty("status").GetInt32(), results.GetProperty("badKey").GetProperty("errorType").GetString()));

        // Five answers sealed as the messages door; the refused body was sealed too, as a 400 (it passed the key check).
        var exchanges = report.RootElement.GetProperty("exchanges").EnumerateArray().Where(e => e.GetProperty("method").GetString() == "POST").ToList();
        Assert.Equal([200, 200, 200, 200, 200, 400, 401], exchanges.Select(e => e.GetProperty("status").GetInt32()));
        using var answered = JsonDocument.Parse(JsonSerializer.Serialize(new { results, exchanges = exchanges.Take(5) }));
        var entries = await NpmScripts.VerifyExchangesAsync(demo, answered);
        Assert.All(entries, e => Assert.Equal("messages", e.GetProperty("api").GetString()));
        Assert.Equal([true, false, true], entries.Skip(1).Take(3).Select(e => e.GetProperty("stream").GetBoolean()));
        Assert.Equal(["get_weather"], entries[2].GetProperty("tools").GetProperty("called").EnumerateArray().Select(n => n.GetString()));
    }

    private static void AssertWeather(JsonElement input)
    {
        Assert.Contains(input.GetProperty("city").GetString(), new[] { "Paris", "Oslo", "Lima" });
        Assert.Equal(JsonValueKind.Number, input.GetProperty("days").ValueKind);
    }
}
