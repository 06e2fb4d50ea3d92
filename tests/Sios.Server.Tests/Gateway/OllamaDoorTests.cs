using System.Net;
using System.Text;
using System.Text.Json;

namespace Sios.Server.Tests.Gateway;

/// <summary>One gateway for the Ollama door's tests, its refusal budget high enough that every refusal is sealed on its own.</summary>
public sealed class OllamaGateway : IAsyncLifetime
{
    internal InProcessGateway Gateway { get; private set; } = null!;

    public async Task InitializeAsync() => Gateway = await InProcessGateway.StartAsync(refusalsSealedPerMinute: 1_000);

    public async Task DisposeAsync() => await Gateway.DisposeAsync();
}

/// <summary>
/// The Ollama door over the real pipeline: what it refuses gets a 400 in Ollama's <c>{"error":"…"}</c> shape, sealed
/// as a refusal that never reached a brain; what it serves is answered in Ollama's shapes, a stream as NDJSON whose
/// last line carries the receipt.
/// </summary>
public sealed class OllamaDoorTests(OllamaGateway fixture) : IClassFixture<OllamaGateway>
{
    private const string User = """[{"role":"user","content":"hi"}]""";

    public static TheoryData<string, string, string, string> Refused => new()
    {
        { "no model", "/api/chat", $$$"""{"messages":{{{User}}}}""", "'model' is required" },
        { "messages not an array", "/api/chat", """{"model":"tiny","messages":"hi"}""", "'messages' is required" },
        { "an empty chat (Ollama's way to load a model)", "/api/chat", """{"model":"tiny","messages":[]}""", "between 1 and 1024 messages" },
        { "an unknown role", "/api/chat", """{"model":"tiny","messages":[{"role":"wizard","content":"x"}]}""", "messages[0].role must be" },
        { "content that is not a string", "/api/chat", """{"model":"tiny","messages":[{"role":"user","content":[{"type":"text","text":"x"}]}]}""", "messages[0].content must be a string" },
        { "an image", "/api/chat", """{"model":"tiny","messages":[{"role":"user","content":"x","images":["aGk="]}]}""", "only text is served" },
        { "thinking asked for", "/api/chat", $$$"""{"model":"tiny","messages":{{{User}}},"think":true}""", "'think' is not supported" },
        { "a thinking level", "/api/chat", $$$"""{"model":"tiny","messages":{{{User}}},"think":"high"}""", "'think' is not supported" },
        { "log-probabilities", "/api/chat", $$$"""{"model":"tiny","messages":{{{User}}},"logprobs":true}""", "'logprobs' is not supported" },
        { "a format that is neither json nor a schema", "/api/chat", $$$"""{"model":"tiny","messages":{{{User}}},"format":"yaml"}""", "'format' must be" },
        { "options that are not an object", "/api/chat", $$$"""{"model":"tiny","messages":{{{User}}},"options":[1]}""", "'options' must be an object" },
        { "an option Ollama does not define", "/api/chat", $$$"""{"model":"tiny","messages":{{{User}}},"options":{"max_tokens":5}}""", "'options.max_tokens' is not one of Ollama's options" },
        { "an ignored option of the wrong type", "/api/chat", $$$"""{"model":"tiny","messages":{{{User}}},"options":{"num_ctx":"big"}}""", "'options.num_ctx' must be a number" },
        { "num_predict 0", "/api/chat", $$$"""{"model":"tiny","messages":{{{User}}},"options":{"num_predict":0}}""", "'num_predict' must be at least 1" },
        { "num_predict as text", "/api/chat", $$$"""{"model":"tiny","messages":{{{User}}},"options":{"num_predict":"5"}}""", "'num_predict' must be an integer" },
        { "a seed below -1", "/api/chat", $$$"""{"model":"tiny","messages":{{{User}}},"options":{"seed":-2}}""", "'seed' must be between -1" },
        { "temperature out of range", "/api/chat", $$$"""{"model":"tiny","messages":{{{User}}},"options":{"temperature":9}}""", "'temperature' must be between 0 and 2" },
        { "an empty stop string", "/api/chat", $$$"""{"model":"tiny","messages":{{{User}}},"options":{"stop":[""]}}""", "'stop' strings must not be empty" },
        { "stream as text", "/api/chat", $$$"""{"model":"tiny","messages":{{{User}}},"stream":"yes"}""", "'stream' must be true or false" },
        { "a tool result answering no call", "/api/chat", """{"model":"tiny","messages":[{"role":"user","content":"x"},{"role":"tool","content":"42"}]}""", "no call left unanswered" },
        { "a tool result naming a tool not called", "/api/chat", """{"model":"tiny","messages":[{"role":"user","content":"x"},{"role":"assistant","content":"","tool_calls":[{"function":{"name":"f","arguments":{}}}]},{"role":"tool","content":"42","tool_name":"g"}]}""", "no unanswered call of it" },
        { "a tool result for an unknown call id", "/api/chat", """{"model":"tiny","messages":[{"role":"user","content":"x"},{"role":"tool","content":"42","tool_call_id":"call_9"}]}""", "no earlier assistant message made a call with that id" },
        { "call arguments as a string", "/api/chat", """{"model":"tiny","messages":[{"role":"user","content":"x"},{"role":"assistant","content":"","tool_calls":[{"function":{"name":"f","arguments":"{}"}}]}]}""", "must be a JSON object (Ollama sends arguments as an object" },
        { "a call without a name", "/api/chat", """{"model":"tiny","messages":[{"role":"user","content":"x"},{"role":"assistant","content":"","tool_calls":[{"function":{"arguments":{}}}]}]}""", "with a valid tool name" },
        { "a tool of another type", "/api/chat", $$$"""{"model":"tiny","messages":{{{User}}},"tools":[{"type":"code_interpreter"}]}""", "only function tools are served" },
        { "raw mode", "/api/generate", """{"model":"tiny","prompt":"x","raw":true}""", "'raw' is not supported" },
        { "a template", "/api/generate", """{"model":"tiny","prompt":"x","template":"{{ .Prompt }}"}""", "'template' is not supported" },
        { "a context to resume", "/api/generate", """{"model":"tiny","prompt":"x","context":[1,2,3]}""", "'context' is not supported" },
        { "a suffix", "/api/generate", """{"model":"tiny","prompt":"x","suffix":"y"}""", "'suffix' is not supported" },
        { "an image to generate from", "/api/generate", """{"model":"tiny","prompt":"x","images":["aGk="]}""", "'images' is not supported" },
        { "an empty prompt (Ollama's way to load a model)", "/api/generate", """{"model":"tiny","prompt":""}""", "'prompt' is required" },
        { "no input", "/api/embed", """{"model":"tiny"}""", "'input' is required" },
        { "token-array input", "/api/embed", """{"model":"tiny","input":[[1,2,3]]}""", "token arrays are not accepted" },
        { "fewer dimensions", "/api/embed", """{"model":"tiny","input":"x","dimensions":8}""", "'dimensions' is not supported" },
        { "not JSON", "/api/chat", """{"model":"tiny",""", "not valid JSON" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task A_request_the_door_refuses_gets_a_400_in_Ollama_s_shape_sealed_before_any_brain(string what, string path, string body, string message)
    {
        using var client = fixture.Gateway.Client();
        using var response = await client.PostAsync(path, Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{what}: {(int)response.StatusCode} {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains(message, Error(text), StringComparison.Ordinal);

        // Sealed as a refusal through this door that never reached a brain: no brain, no tokens.
        var entry = await EntryAsync(response);
        Assert.Equal("error", entry.GetProperty("finish").GetString());
        Assert.Equal(path == "/api/embed" ? "ollama.embed" : path == "/api/chat" ? "ollama.chat" : "ollama.generate", entry.GetProperty("api").GetString());
        Assert.False(entry.TryGetProperty("brain", out _), entry.GetRawText());
        Assert.False(entry.TryGetProperty("tokens", out _), entry.GetRawText());
    }

    [Theory]
    [InlineData("/api/chat", """{"model":"tiny:v2","messages":[{"role":"user","content":"hi"}]}""", "tiny:v2")]
    [InlineData("/api/embed", """{"model":"nobody","input":"x"}""", "nobody")]
    [InlineData("/api/show", """{"model":"nobody:latest"}""", "nobody:latest")]
    public async Task An_unknown_model_or_another_tag_gets_Ollama_s_404_saying_there_is_nothing_to_pull(string path, string body, string model)
    {
        using var client = fixture.Gateway.Client();
        using var response = await client.PostAsync(path, Json(body));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var error = Error(await response.Content.ReadAsStringAsync());
        Assert.StartsWith($"model \"{model}\" not found", error, StringComparison.Ordinal);
        Assert.Contains("nothing to pull", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_client_with_no_key_is_told_how_Ollama_clients_send_one()
    {
        using var client = new HttpClient { BaseAddress = fixture.Gateway.Url };
        foreach (var path in new[] { "/api/tags", "/api/version" })
        {
            using var response = await client.GetAsync(path);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Contains("Ollama clients send it as a header", Error(await response.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Brains_are_listed_as_name_latest_and_both_names_answer()
    {
        using var client = fixture.Gateway.Client();
        using (var tags = JsonDocument.Parse(await client.GetStringAsync("/api/tags")))
        {
            var model = Assert.Single(tags.RootElement.GetProperty("models").EnumerateArray());
            Assert.Equal("tiny:latest", model.GetProperty("name").GetString());
            Assert.Equal("tiny:latest", model.GetProperty("model").GetString());
            Assert.Equal(64, model.GetProperty("digest").GetString()!.Length);
            Assert.True(model.GetProperty("size").GetInt64() > 0);
        }

        foreach (var name in new[] { "tiny", "tiny:latest" })
        {
            using var response = await client.PostAsync("/api/chat", Json($$$"""{"model":"{{{name}}}","stream":false,"messages":{{{User}}}}"""));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, text);
            using var answer = JsonDocument.Parse(text);
            Assert.Equal(name, answer.RootElement.GetProperty("model").GetString());
            Assert.True(answer.RootElement.GetProperty("done").GetBoolean());
            Assert.Equal("assistant", answer.RootElement.GetProperty("message").GetProperty("role").GetString());
            Assert.Equal("ollama.chat", (await EntryAsync(response)).GetProperty("api").GetString());
        }

        using var version = JsonDocument.Parse(await client.GetStringAsync("/api/version"));
        Assert.Equal(Sios.Server.Doors.Ollama.OllamaEndpoints.ApiVersion, version.RootElement.GetProperty("version").GetString());
    }

    [Fact]
    public async Task A_request_as_curl_sends_it_is_read_as_json_and_streams_by_default()
    {
        using var client = fixture.Gateway.Client();

        // curl -d labels the body as a form; Ollama's documented examples rely on it being read as JSON.
        using var content = new StringContent("""{"model":"tiny","prompt":"Why?","options":{"num_predict":3,"seed":1}}""", Encoding.UTF8, "application/x-www-form-urlencoded");
        using var response = await client.PostAsync("/api/generate", content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType!.MediaType);
        var lines = body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length >= 2, body);
        foreach (var line in lines[..^1])
        {
            using var piece = JsonDocument.Parse(line);
            Assert.False(piece.RootElement.GetProperty("done").GetBoolean());
            Assert.Equal("tiny", piece.RootElement.GetProperty("model").GetString());
        }

        using var last = JsonDocument.Parse(lines[^1]);
        var done = last.RootElement;
        Assert.True(done.GetProperty("done").GetBoolean());
        Assert.Equal("length", done.GetProperty("done_reason").GetString());
        Assert.Equal(3, done.GetProperty("eval_count").GetInt32());
        Assert.True(done.GetProperty("total_duration").GetInt64() > 0);
        var index = done.GetProperty("sios").GetProperty("index").GetInt64();
        Assert.Equal($"/log/receipts/{index}", done.GetProperty("sios").GetProperty("receipt").GetString());
        using var entry = JsonDocument.Parse((await fixture.Gateway.Log.Reader.ReadEntriesAsync(index, 1))[0]);
        Assert.Equal("ollama.generate", entry.RootElement.GetProperty("api").GetString());
        Assert.True(entry.RootElement.GetProperty("stream").GetBoolean());
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>The message of an Ollama error body, which has that one member.</summary>
    private static string Error(string body)
    {
        using var doc = JsonDocument.Parse(body);
        var member = Assert.Single(doc.RootElement.EnumerateObject());
        Assert.Equal("error", member.Name);
        return member.Value.GetString()!;
    }

    private async Task<JsonElement> EntryAsync(HttpResponseMessage response)
    {
        var index = long.Parse(response.Headers.GetValues("Sios-Log-Index").Single(), System.Globalization.CultureInfo.InvariantCulture);
        using var doc = JsonDocument.Parse((await fixture.Gateway.Log.Reader.ReadEntriesAsync(index, 1))[0]);
        return doc.RootElement.Clone();
    }
}
