using System.Text.Json;

namespace Sios.EndToEnd;

/// <summary>
/// The Responses API (tests/interop/responses-e2e.mjs) through the npm <c>openai</c> client and the Vercel AI SDK's
/// default provider: plain, streamed, function tools, previous_response_id, stored responses read back and deleted;
/// every answer's receipt verified here from the recorded bytes.
/// </summary>
public sealed class NpmResponsesTests(ServedDemo demo) : IClassFixture<ServedDemo>
{
    [NpmFact]
    public async Task The_responses_api_works_for_unmodified_clients_and_every_answer_verifies()
    {
        using var report = await NpmScripts.RunAsync(demo, "responses-e2e.mjs");
        var results = report.RootElement.GetProperty("results");
        var plain = results.GetProperty("plain");
        Assert.StartsWith("resp_", plain.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal(["message"], plain.GetProperty("items").EnumerateArray().Select(i => i.GetString()));
        Assert.True(plain.GetProperty("usage").GetProperty("input_tokens").GetInt32() > 0);

        // The follow-up carries the stored conversation: more prompt than the same input on its own.
        var previous = results.GetProperty("previous");
        Assert.True(previous.GetProperty("followed").GetInt32() > previous.GetProperty("fresh").GetInt32(), previous.GetRawText());
        Assert.Equal(plain.GetProperty("id").GetString(), previous.GetProperty("previous").GetString());
        Assert.False(previous.GetProperty("freshStore").GetBoolean());

        var stream = results.GetProperty("stream");
        Assert.Equal("response.created", stream.GetProperty("first").GetString());
        Assert.Contains(stream.GetProperty("last").GetString(), new[] { "response.completed", "response.incomplete" });
        Assert.Equal(stream.GetProperty("deltas").GetString(), stream.GetProperty("final").GetString());

        var tool = results.GetProperty("tool");
        Assert.Equal("get_weather", tool.GetProperty("name").GetString());
        AssertWeather(tool.GetProperty("arguments"));
        Assert.True(results.GetProperty("toolStream").GetProperty("argumentDeltas").GetInt32() > 1);
        AssertWeather(results.GetProperty("toolStream").GetProperty("arguments"));
        Assert.DoesNotContain("function_call", results.GetProperty("loop").GetProperty("items").EnumerateArray().Select(i => i.GetString()));

        var stored = results.GetProperty("stored");
        Assert.True(stored.GetProperty("same").GetBoolean());
        Assert.Equal(404, stored.GetProperty("gone").GetInt32());

        var agent = results.GetProperty("aiAgent");
        Assert.Equal(2, agent.GetProperty("steps").GetInt32());
        Assert.True(agent.GetProperty("executed").GetInt32() >= 1);
        Assert.Equal("tool-calls", agent.GetProperty("firstFinish").GetString());
        AssertWeather(agent.GetProperty("calls")[0].GetProperty("input"));
        Assert.True(results.GetProperty("aiStream").GetProperty("same").GetBoolean());

        var entries = await NpmScripts.VerifyExchangesAsync(demo, Posts(report));
        Assert.All(entries, e => Assert.Equal("responses", e.GetProperty("api").GetString()));
        Assert.Equal(["get_weather"], entries[4].GetProperty("tools").GetProperty("called").EnumerateArray().Select(n => n.GetString()));
        Assert.True(entries[3].GetProperty("stream").GetBoolean());
    }

    /// <summary>The report with its POST exchanges only (the GET and DELETE of stored responses are not answers, so carry no receipt).</summary>
    private static JsonDocument Posts(JsonDocument report)
    {
        var posts = report.RootElement.GetProperty("exchanges").EnumerateArray().Where(e => e.GetProperty("method").GetString() == "POST");
        return JsonDocument.Parse(JsonSerializer.Serialize(new { exchanges = posts }));
    }

    private static void AssertWeather(JsonElement input)
    {
        Assert.Contains(input.GetProperty("city").GetString(), new[] { "Paris", "Oslo", "Lima" });
        Assert.InRange(input.GetProperty("days").GetInt32(), 1, 7);
    }
}
