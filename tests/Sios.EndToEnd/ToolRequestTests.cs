using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sios.EndToEnd;

/// <summary>Malformed tool-calling requests get a clear 400 naming the field, and the server keeps serving.</summary>
public sealed class ToolRequestTests(ServedDemo demo) : IClassFixture<ServedDemo>
{
    private const string Weather = """{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}""";

    public static TheoryData<string, string, string> Malformed => new()
    {
        { "a schema with no finite answer", """{"tools":[{"type":"function","function":{"name":"loop","parameters":{"$ref":"#/$defs/a","$defs":{"a":{"type":"object","properties":{"a":{"$ref":"#/$defs/a"}},"required":["a"]}}}}}],"messages":[{"role":"user","content":"x"}]}""", "tools" },
        { "a tool_choice naming a tool not offered", $$$"""{"tools":[{{{Weather}}}],"tool_choice":{"type":"function","function":{"name":"rm_rf"}},"messages":[{"role":"user","content":"x"}]}""", "tool_choice" },
        { "a tool result answering no call", """{"messages":[{"role":"user","content":"x"},{"role":"tool","tool_call_id":"call_9","content":"42"}]}""", "messages[1].tool_call_id" },
        { "1,000 tools", "{\"tools\":[" + string.Join(",", Enumerable.Range(0, 1000).Select(i => Weather.Replace("get_weather", $"t{i}", StringComparison.Ordinal))) + "],\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", "tools" },
        { "a tool of another type", """{"tools":[{"type":"code_interpreter"}],"messages":[{"role":"user","content":"x"}]}""", "tools[0].type" },
        { "a tool named with a space", """{"tools":[{"type":"function","function":{"name":"get weather"}}],"messages":[{"role":"user","content":"x"}]}""", "tools[0].function.name" },
        { "a tool defined twice", $$$"""{"tools":[{{{Weather}}},{{{Weather}}}],"messages":[{"role":"user","content":"x"}]}""", "tools[1].function.name" },
        { "tool_choice without tools", """{"tool_choice":"required","messages":[{"role":"user","content":"x"}]}""", "tool_choice" },
        { "an unknown tool_choice", $$$"""{"tools":[{{{Weather}}}],"tool_choice":"always","messages":[{"role":"user","content":"x"}]}""", "tool_choice" },
        { "call arguments that are not JSON", """{"messages":[{"role":"user","content":"x"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{city: Paris"}}]}]}""", "messages[1].tool_calls[0].function.arguments" },
        { "the deprecated functions field", """{"functions":[{"name":"f","parameters":{}}],"messages":[{"role":"user","content":"x"}]}""", "functions" },
        { "128 tools whose schemas are too much grammar together", ManyTools(), "tools" },
        { "a tool result without its id", """{"messages":[{"role":"user","content":"x"},{"role":"tool","content":"42"}]}""", "messages[1].tool_call_id" },
    };

    /// <summary>128 tools, each with a 200-value enum: allowed one by one, far over the grammar budget together.</summary>
    private static string ManyTools()
    {
        var tools = new JsonArray();
        for (var i = 0; i < 128; i++)
        {
            var values = new JsonArray();
            for (var j = 0; j < 200; j++)
            {
                values.Add($"value-{i}-{j}");
            }

            tools.Add(new JsonObject
            {
                ["type"] = "function",
                ["function"] = new JsonObject
                {
                    ["name"] = $"t{i}",
                    ["parameters"] = new JsonObject { ["type"] = "object", ["properties"] = new JsonObject { ["v"] = new JsonObject { ["enum"] = values } } },
                },
            });
        }

        return new JsonObject { ["tools"] = tools, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "x" }) }.ToJsonString();
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task A_malformed_tool_request_gets_a_400_naming_the_field(string what, string body, string param)
    {
        var request = JsonNode.Parse(body)!.AsObject();
        request["model"] = "demo-tools";
        using var client = demo.Client();
        using var response = await client.PostAsync("/v1/chat/completions", new StringContent(request.ToJsonString(), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{what}: {(int)response.StatusCode} {text}");
        using var error = JsonDocument.Parse(text);
        Assert.Equal(param, error.RootElement.GetProperty("error").GetProperty("param").GetString());
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);

        using var healthy = await client.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
    }

    [Fact]
    public async Task Tool_choice_none_and_an_earlier_call_in_the_history_are_served()
    {
        var body = $$$"""
            {"model":"demo-tools","max_tokens":8,"tools":[{{{Weather}}}],"tool_choice":"none","messages":[
              {"role":"user","content":"weather?"},
              {"role":"assistant","content":"","tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}}]},
              {"role":"tool","tool_call_id":"call_1","content":"rain"}]}
            """;
        using var client = demo.Client();
        using var response = await client.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        using var answer = JsonDocument.Parse(text);
        var choice = answer.RootElement.GetProperty("choices")[0];
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        Assert.False(choice.GetProperty("message").TryGetProperty("tool_calls", out _));
    }
}
