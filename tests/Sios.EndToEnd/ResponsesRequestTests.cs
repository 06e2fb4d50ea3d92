using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sios.EndToEnd;

/// <summary>
/// The Responses API from outside: malformed bodies get a 400 naming the field, and a stored response is another
/// key's to read, continue or delete only when it is that key's own.
/// </summary>
public sealed class ResponsesRequestTests(ServedDemo demo) : IClassFixture<ServedDemo>
{
    public static TheoryData<string, string, string> Malformed => new()
    {
        { "no input", "{}", "input" },
        { "an image part", """{"input":[{"role":"user","content":[{"type":"input_image","image_url":"https://x/y.png"}]}]}""", "input[0].content" },
        { "a hosted tool", """{"input":"x","tools":[{"type":"web_search"}]}""", "tools[0].type" },
        { "a function output answering no call", """{"input":[{"type":"function_call_output","call_id":"call_9","output":"42"}]}""", "input" },
        { "background", """{"input":"x","background":true}""", "background" },
        { "reasoning effort", """{"input":"x","reasoning":{"effort":"high"}}""", "reasoning" },
        { "an unknown text format", """{"input":"x","text":{"format":{"type":"xml"}}}""", "text.format.type" },
        { "a json_schema format without its schema", """{"input":"x","text":{"format":{"type":"json_schema","name":"n"}}}""", "text.format.schema" },
        { "a reference to no stored item", """{"input":[{"type":"item_reference","id":"msg_nothing"}]}""", "input" },
        { "a previous response that is not one", """{"input":"x","previous_response_id":"resp_00000000-0000-0000-0000-000000000000"}""", "previous_response_id" },
        { "an unknown item type", """{"input":[{"type":"computer_call","id":"c"}]}""", "input[0].type" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task A_malformed_request_gets_a_4xx_naming_the_field(string what, string body, string param)
    {
        var request = JsonNode.Parse(body)!.AsObject();
        request["model"] = "demo-tools";
        using var client = demo.Client();
        using var response = await client.PostAsync("/v1/responses", new StringContent(request.ToJsonString(), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound, $"{what}: {(int)response.StatusCode} {text}");
        using var error = JsonDocument.Parse(text);
        Assert.Equal(param, error.RootElement.GetProperty("error").GetProperty("param").GetString());
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Another_key_can_neither_read_nor_continue_nor_delete_a_stored_response()
    {
        var created = await SiosCli.RunAsync("key", "create", "responses-other", "--brains", "*", "--data", demo.Data);
        Assert.True(created.ExitCode == 0, created.Err);
        using var owner = demo.Client();
        using var other = demo.Client(created.Out.Trim());

        using var answer = await owner.PostAsync("/v1/responses", Json("""{"model":"demo","input":"secret plans","max_output_tokens":4}"""));
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        using var doc = JsonDocument.Parse(await answer.Content.ReadAsStringAsync());
        var id = doc.RootElement.GetProperty("id").GetString()!;
        var item = doc.RootElement.GetProperty("output")[0].GetProperty("id").GetString()!;

        using var read = await other.GetAsync($"/v1/responses/{id}");
        Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
        using var continued = await other.PostAsync("/v1/responses", Json($$"""{"model":"demo","input":"go on","previous_response_id":"{{id}}"}"""));
        Assert.Equal(HttpStatusCode.NotFound, continued.StatusCode);
        using var referenced = await other.PostAsync("/v1/responses", Json($$"""{"model":"demo","input":[{"type":"item_reference","id":"{{item}}"}]}"""));
        Assert.Equal(HttpStatusCode.NotFound, referenced.StatusCode);
        using var deleted = await other.DeleteAsync($"/v1/responses/{id}");
        Assert.Equal(HttpStatusCode.NotFound, deleted.StatusCode);

        // The owner still has it, and a response sent with store: false is nobody's to read back.
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync($"/v1/responses/{id}")).StatusCode);
        using var unstored = await owner.PostAsync("/v1/responses", Json("""{"model":"demo","input":"x","max_output_tokens":2,"store":false}"""));
        using var unstoredDoc = JsonDocument.Parse(await unstored.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await owner.GetAsync($"/v1/responses/{unstoredDoc.RootElement.GetProperty("id").GetString()}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await owner.GetAsync("/v1/responses/resp_..%2F..%2Fapi-keys")).StatusCode);
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
