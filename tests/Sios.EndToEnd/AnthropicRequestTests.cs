using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sios.EndToEnd;

/// <summary>Malformed Anthropic Messages requests get a 4xx in Anthropic's error shape, naming what is wrong; the server keeps serving.</summary>
public sealed class AnthropicRequestTests(ServedDemo demo) : IClassFixture<ServedDemo>
{
    private const string User = """{"role":"user","content":"x"}""";

    public static TheoryData<string, string, string> Malformed => new()
    {
        { "no max_tokens", $$"""{"messages":[{{User}}]}""", "max_tokens" },
        { "no messages", """{"max_tokens":8}""", "messages" },
        { "a system role in messages", """{"max_tokens":8,"messages":[{"role":"system","content":"x"}]}""", "role" },
        { "an image block", """{"max_tokens":8,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AA=="}}]}]}""", "only text" },
        { "a prefilled assistant turn", $$"""{"max_tokens":8,"messages":[{{User}},{"role":"assistant","content":"The answer is"}]}""", "prefill" },
        { "a tool_result answering no tool_use", """{"max_tokens":8,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_9","content":"42"}]}]}""", "toolu_9" },
        { "a tool_use in a user message", """{"max_tokens":8,"messages":[{"role":"user","content":[{"type":"tool_use","id":"t","name":"f","input":{}}]}]}""", "assistant" },
        { "a server tool", $$"""{"max_tokens":8,"tools":[{"type":"web_search_20250305","name":"web_search"}],"messages":[{{User}}]}""", "server tool" },
        { "a tool without input_schema", $$"""{"max_tokens":8,"tools":[{"name":"f"}],"messages":[{{User}}]}""", "input_schema" },
        { "tool_choice naming no tool", $$$"""{"max_tokens":8,"tools":[{"name":"f","input_schema":{"type":"object"}}],"tool_choice":{"type":"tool","name":"g"},"messages":[{{{User}}}]}""", "tool_choice" },
        { "thinking enabled", $$"""{"max_tokens":8,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[{{User}}]}""", "thinking" },
        { "top_k", $$"""{"max_tokens":8,"top_k":5,"messages":[{{User}}]}""", "top_k" },
        { "a temperature above Anthropic's 1", $$"""{"max_tokens":8,"temperature":1.5,"messages":[{{User}}]}""", "temperature" },
        { "an empty stop sequence", $$"""{"max_tokens":8,"stop_sequences":[""],"messages":[{{User}}]}""", "stop_sequences" },
        { "a tool_use whose input is a string", """{"max_tokens":8,"messages":[{"role":"user","content":"x"},{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":"{}"}]},{"role":"user","content":"y"}]}""", "input" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task A_malformed_request_gets_a_400_in_anthropics_shape(string what, string body, string mentions)
    {
        var request = JsonNode.Parse(body)!.AsObject();
        request["model"] = "demo-tools";
        using var client = demo.Client();
        using var response = await client.PostAsync("/v1/messages", new StringContent(request.ToJsonString(), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{what}: {(int)response.StatusCode} {text}");
        using var error = JsonDocument.Parse(text);
        Assert.Equal("error", error.RootElement.GetProperty("type").GetString());
        Assert.Equal("invalid_request_error", error.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.Contains(mentions, error.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_model_a_missing_key_and_an_unknown_route_answer_in_anthropics_shape()
    {
        using var client = demo.Client();
        using var missing = await client.PostAsync("/v1/messages", new StringContent($$"""{"model":"claude-none","max_tokens":8,"messages":[{{User}}]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("not_found_error", (await ErrorType(missing)).Type);

        using var anonymous = new HttpClient { BaseAddress = demo.Url };
        using var noKey = await anonymous.PostAsync("/v1/messages", new StringContent($$"""{"model":"demo-tools","max_tokens":8,"messages":[{{User}}]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        var (type, message) = await ErrorType(noKey);
        Assert.Equal("authentication_error", type);
        Assert.Contains("x-api-key", message, StringComparison.Ordinal);

        using var tokens = await client.PostAsync("/v1/messages/count_tokens", new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.NotFound, tokens.StatusCode);
        Assert.Equal("not_found_error", (await ErrorType(tokens)).Type);
    }

    [Fact]
    public async Task A_key_sent_as_x_api_key_is_a_key_and_models_list_in_anthropics_shape_when_asked()
    {
        using var anonymous = new HttpClient { BaseAddress = demo.Url };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.Add("x-api-key", demo.AdminKey);
        request.Headers.Add("anthropic-version", "2023-06-01");
        using var response = await anonymous.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var list = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.False(list.RootElement.GetProperty("has_more").GetBoolean());
        Assert.All(list.RootElement.GetProperty("data").EnumerateArray(), m => Assert.Equal("model", m.GetProperty("type").GetString()));
        Assert.Equal(list.RootElement.GetProperty("data")[0].GetProperty("id").GetString(), list.RootElement.GetProperty("first_id").GetString());
    }

    private static async Task<(string Type, string Message)> ErrorType(HttpResponseMessage response)
    {
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var inner = error.RootElement.GetProperty("error");
        return (inner.GetProperty("type").GetString()!, inner.GetProperty("message").GetString()!);
    }
}
