using Sios.Brains.Engines;
using Sios.Brains.Upstream;
using static Sios.Brains.Tests.Upstream.StubUpstream;

namespace Sios.Brains.Tests.Upstream;

/// <summary>An upstream brain forwards tools to its endpoint and assembles the calls it streams back in fragments.</summary>
public sealed class UpstreamToolTests : IDisposable
{
    private readonly StubUpstream _stub = StubUpstream.Start();

    public void Dispose() => _stub.Dispose();

    private UpstreamEngine Engine() => new(
        new UpstreamOptions { BaseAddress = _stub.Address("127.0.0.1"), Model = "stub-model", Timeout = TimeSpan.FromSeconds(30) },
        new EgressAllowList(["127.0.0.1"]));

    private static readonly ToolDefinition s_weather = new("get_weather", "Weather", """{"type":"object","properties":{"city":{"type":"string"}}}""", Strict: true);

    private static ChatRequest Request(ToolMode mode) => new()
    {
        Messages =
        [
            new ChatMessage("user", "Weather?"),
            new ChatMessage("assistant", [new FunctionCallContent("call_0", "get_weather", """{"city":"Oslo"}""")]),
            new ChatMessage("tool", [new FunctionResultContent("call_0", "rain")]),
        ],
        Tools = [s_weather],
        ToolMode = mode,
        ParallelToolCalls = false,
        MaxTokens = 16,
    };

    private static string CallChunk(int index, string? id, string? name, string? arguments) =>
        "data: " + System.Text.Json.JsonSerializer.Serialize(new
        {
            id = "chatcmpl-1",
            choices = new[]
            {
                new { index = 0, delta = new { tool_calls = new[] { new { index, id, type = id is null ? null : "function", function = new { name, arguments } } } }, finish_reason = (string?)null },
            },
        }) + "\n\n";

    private async Task<List<GenerationUpdate>> CollectAsync(ChatRequest request)
    {
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var engine = Engine();
        var updates = new List<GenerationUpdate>();
        await foreach (var u in engine.GenerateAsync(request, guard.Token))
        {
            updates.Add(u);
        }

        return updates;
    }

    [Fact]
    public async Task Tools_calls_and_results_are_forwarded_and_streamed_calls_are_assembled()
    {
        _stub.Respond = c => Sse(c,
        [
            CallChunk(0, "call_1", "get_weather", ""), CallChunk(0, null, null, "{\"ci"), CallChunk(0, null, null, "ty\":\"Paris\"}"),
            Chunk(finish: "tool_calls"), UsageChunk(10, 5), Done,
        ]);
        var updates = await CollectAsync(Request(ToolMode.Named("get_weather")));

        var call = Assert.Single(updates, u => u.Call is not null).Call!;
        Assert.Equal(("call_1", "get_weather", "{\"city\":\"Paris\"}"), (call.CallId, call.Name, call.Arguments));
        Assert.Equal(FinishReason.ToolCalls, updates[^1].FinishReason);

        var sent = Assert.Single(_stub.Requests).Body;
        var tool = sent.GetProperty("tools")[0];
        Assert.Equal("function", tool.GetProperty("type").GetString());
        Assert.Equal("get_weather", tool.GetProperty("function").GetProperty("name").GetString());
        Assert.True(tool.GetProperty("function").GetProperty("strict").GetBoolean());
        Assert.Equal("get_weather", sent.GetProperty("tool_choice").GetProperty("function").GetProperty("name").GetString());
        Assert.False(sent.GetProperty("parallel_tool_calls").GetBoolean());
        var messages = sent.GetProperty("messages");
        Assert.Equal(System.Text.Json.JsonValueKind.Null, messages[1].GetProperty("content").ValueKind);
        Assert.Equal("{\"city\":\"Oslo\"}", messages[1].GetProperty("tool_calls")[0].GetProperty("function").GetProperty("arguments").GetString());
        Assert.Equal("call_0", messages[2].GetProperty("tool_call_id").GetString());
        Assert.Equal("rain", messages[2].GetProperty("content").GetString());
    }

    [Theory]
    [InlineData("rm_rf", "{}", "did not offer")]
    [InlineData("get_weather", "{\"city\":", "not valid JSON")]
    [InlineData("get_weather", "[1]", "not a JSON object")]
    public async Task A_call_the_request_did_not_allow_is_the_upstreams_fault(string name, string arguments, string message)
    {
        _stub.Respond = c => Sse(c, [CallChunk(0, "call_1", name, arguments), Chunk(finish: "tool_calls"), Done]);
        var e = await Assert.ThrowsAsync<UpstreamProtocolException>(() => CollectAsync(Request(ToolMode.Auto)));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tool_choice_none_and_required_are_forwarded_as_words()
    {
        _stub.Respond = c => Sse(c, [Chunk("ok"), Chunk(finish: "stop"), Done]);
        await CollectAsync(Request(ToolMode.None));
        await CollectAsync(Request(ToolMode.Required));
        var sent = _stub.Requests.ToArray();
        Assert.Equal("none", sent[0].Body.GetProperty("tool_choice").GetString());
        Assert.Equal("required", sent[1].Body.GetProperty("tool_choice").GetString());
    }
}
