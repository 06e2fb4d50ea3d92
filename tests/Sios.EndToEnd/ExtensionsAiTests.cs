using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json;
using Microsoft.Extensions.AI;
using OpenAI;

namespace Sios.EndToEnd;

/// <summary>
/// Microsoft.Extensions.AI over the OpenAI SDK, unmodified, against SIOS: <c>UseFunctionInvocation</c> runs the agent
/// loop (the model calls the tool, the client runs it and sends the result back, the model answers), and every
/// round trip carries a receipt that verifies, with the tools it offered and called sealed by name.
/// </summary>
public sealed class ExtensionsAiTests(ServedDemo demo) : IClassFixture<ServedDemo>
{
    [Fact]
    public async Task UseFunctionInvocation_runs_a_tool_loop_and_every_round_is_sealed()
    {
        var wire = new RecordingHandler();
        using var http = new HttpClient(wire) { Timeout = TimeSpan.FromMinutes(2) };
        var openAi = new OpenAIClient(new ApiKeyCredential(demo.AdminKey), new OpenAIClientOptions
        {
            Endpoint = new Uri(demo.Url, "/v1"),
            Transport = new HttpClientPipelineTransport(http),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        });
        var invoked = new List<(string City, int Days)>();
        var weather = AIFunctionFactory.Create(
            (string city, int days) =>
            {
                invoked.Add((city, days));
                return $"{days} days of sun in {city}";
            },
            "get_weather",
            "The weather in a city for some days");
        using IChatClient client = openAi.GetChatClient("demo-tools").AsIChatClient()
            .AsBuilder()
            .UseFunctionInvocation()
            .Build();

        var response = await client.GetResponseAsync(
            "What is the weather in Paris for two days?",
            new ChatOptions { Tools = [weather], ToolMode = ChatToolMode.RequireAny, AllowMultipleToolCalls = false, MaxOutputTokens = 400, Seed = 3 });

        Assert.Single(invoked);
        Assert.Contains(response.Messages, m => m.Contents.OfType<FunctionCallContent>().Any(c => c.Name == "get_weather"));
        Assert.Contains(response.Messages, m => m.Contents.OfType<FunctionResultContent>().Any());
        Assert.False(string.IsNullOrEmpty(response.Text));

        var posts = wire.Exchanges.Where(e => e.Request.Length > 0).ToList();
        Assert.Equal(2, posts.Count);
        var entries = new List<JsonElement>();
        foreach (var exchange in posts)
        {
            entries.Add(await Receipts.VerifyAnswerAsync(demo, exchange.Response.Headers, exchange.Request, exchange.Received.ToArray()));
        }

        Assert.All(entries, e => Assert.Equal(1, e.GetProperty("tools").GetProperty("offered").GetInt32()));
        Assert.Equal(["get_weather"], entries[0].GetProperty("tools").GetProperty("called").EnumerateArray().Select(n => n.GetString()));
        Assert.Equal("stop", entries[0].GetProperty("finish").GetString());
        Assert.Empty(entries[1].GetProperty("tools").GetProperty("called").EnumerateArray());

        // The second round sent the call and its result back, as the client builds them.
        using var second = JsonDocument.Parse(posts[1].Request);
        var messages = second.RootElement.GetProperty("messages").EnumerateArray().ToList();
        Assert.Contains(messages, m => m.GetProperty("role").GetString() == "tool");
        Assert.Contains(messages, m => m.TryGetProperty("tool_calls", out _));
    }
}
