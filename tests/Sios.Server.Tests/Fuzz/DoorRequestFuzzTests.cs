using System.Text;
using System.Text.Json;
using Sios.Server.Http;
using Sios.Server.Doors.Ollama;
using Sios.Server.Doors.OpenAi;
using Sios.Server.Inference;
using Sios.Tests.Fuzz;
using Xunit.Abstractions;

namespace Sios.Server.Tests.Fuzz;

/// <summary>
/// Issue 6, item 4: hostile JSON request bodies for the gateway. Mutants of valid requests of every door (OpenAI's
/// chat, completion and embeddings, Ollama's chat, generate and embed) go through JsonFields.ParseObject and the
/// door's parser; the only acceptable failure is a 4xx ApiException.
/// </summary>
public sealed class DoorRequestFuzzTests(ITestOutputHelper output)
{
    private static readonly byte[][] Chat =
    [
        """{"model":"tiny","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}],"max_tokens":16,"temperature":0.5,"top_p":0.9,"seed":7,"stop":["\n","END"],"stream":true,"stream_options":{"include_usage":true}}"""u8.ToArray(),
        """{"model":"tiny","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"response_format":{"type":"json_object"}}"""u8.ToArray(),
    ];

    private static readonly byte[][] Completion = ["""{"model":"tiny","prompt":"once upon","max_tokens":8,"stop":"\n","seed":1}"""u8.ToArray()];

    private static readonly byte[][] Embeddings =
    [
        """{"model":"tiny","input":["a","b"],"encoding_format":"base64"}"""u8.ToArray(),
        """{"model":"tiny","input":"one"}"""u8.ToArray(),
    ];

    private static readonly byte[][] OllamaChat =
    [
        """{"model":"tiny:latest","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"},{"role":"assistant","content":"","tool_calls":[{"function":{"name":"f","arguments":{"x":1}}}]},{"role":"tool","content":"2","tool_name":"f"}],"options":{"temperature":0.5,"top_p":0.9,"num_predict":16,"seed":7,"stop":["\n"],"num_ctx":2048},"format":"json","keep_alive":"5m","think":false}"""u8.ToArray(),
    ];

    private static readonly byte[][] OllamaGenerate = ["""{"model":"tiny","prompt":"once upon","system":"brief","suffix":"","raw":false,"stream":false,"format":{"type":"object"},"options":{"num_predict":-1,"seed":-1}}"""u8.ToArray()];

    private static readonly byte[][] OllamaEmbed = ["""{"model":"tiny","input":["a","b"],"truncate":true,"options":{"num_ctx":64}}"""u8.ToArray()];

    public static TheoryData<string> Endpoints => ["chat", "completion", "embeddings", "ollama.chat", "ollama.generate", "ollama.embed"];

    /// <summary>Found by fuzz/run (AFL++): lone-surrogate escapes, in a property name and in values, reached the parsers.</summary>
    public static TheoryData<string> LoneSurrogates =>
    [
        """{"mod\ud800el":"tiny","messages":[{"role":"user","content":"hi"}]}""",
        """{"model":"tiny","messages":[{"role":"user","content":"\ud800hi"}]}""",
        """{"model":"tiny","messages":[{"role":"user","content":[{"ty\ud800pe":"text","text":"hi"}]}]}""",
        """{"model":"tiny","messages":[{"role":"user","content":"hi \udfff"}]}""",
    ];

    [Theory]
    [MemberData(nameof(LoneSurrogates))]
    public void A_lone_surrogate_escape_is_refused_as_the_client_s_malformed_body(string body)
    {
        var e = Assert.Throws<ApiException>(() => JsonFields.ParseObject(Encoding.UTF8.GetBytes(body)).Dispose());
        Assert.Equal(400, e.Status);
        Assert.Contains("surrogate", e.Message, StringComparison.Ordinal);
    }

    /// <summary>AFL++ found the first (CI, 2026-12-08): a member read from an array where an object belongs was a 500.</summary>
    [Theory]
    [InlineData("""{"modS^":"tiny","max_tokens":4,"temperature":0.5,"top_p":0.9,"stream":true,"thinking":[{"rolZ":"user","content":"hi"}]}""", "thinking")]
    [InlineData("""{"model":"tiny","max_tokens":4,"thinking":"enabled","messages":[{"role":"user","content":"hi"}]}""", "thinking")]
    [InlineData("""{"model":"tiny","max_tokens":4,"tool_choice":[{"type":"auto"}],"messages":[{"role":"user","content":"hi"}]}""", null)]
    [InlineData("""{"model":"tiny","max_tokens":4,"messages":[{"role":"user","content":[["text"]]}]}""", null)]
    [InlineData("""{"model":"tiny","max_tokens":4,"messages":[["user","hi"]]}""", null)]
    public void A_member_of_a_non_object_is_the_client_s_400_not_a_500(string body, string? param)
    {
        using var doc = JsonFields.ParseObject(Encoding.UTF8.GetBytes(body));
        var refused = Assert.Throws<ApiException>(() => Sios.Server.Doors.Anthropic.AnthropicRequests.Parse(doc.RootElement));
        Assert.Equal(400, refused.Status);
        if (param is not null)
        {
            Assert.Equal(param, refused.Param);
        }
    }

    [Fact]
    public void A_surrogate_pair_escape_still_parses()
    {
        using var doc = JsonFields.ParseObject("""{"model":"tiny","messages":[{"role":"user","content":"\ud83d\ude00"}]}"""u8.ToArray());
        Assert.Equal("\U0001F600", OpenAiRequests.ParseChat(doc.RootElement).Messages[0].Content);
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public void Mutated_request_bodies_parse_or_are_refused_with_a_4xx(string endpoint)
    {
        var (seeds, parse) = endpoint switch
        {
            "chat" => (Chat, (Action<JsonElement>)(root => OpenAiRequests.ParseChat(root))),
            "completion" => (Completion, root => OpenAiRequests.ParseCompletion(root)),
            "embeddings" => (Embeddings, root => OpenAiRequests.ParseEmbeddings(root)),
            "ollama.chat" => (OllamaChat, root => OllamaRequests.ParseChat(root)),
            "ollama.generate" => (OllamaGenerate, root => OllamaRequests.ParseGenerate(root)),
            _ => (OllamaEmbed, (Action<JsonElement>)(root => OllamaRequests.ParseEmbed(root))),
        };
        foreach (var seed in seeds)
        {
            using var valid = JsonFields.ParseObject(seed);
            parse(valid.RootElement);
        }

        var executions = FuzzHarness.Run(FuzzHarness.Mutants(seeds), input =>
        {
            try
            {
                using var doc = JsonFields.ParseObject(input);
                parse(doc.RootElement);
            }
            catch (ApiException e) when (!e.IsClientError)
            {
                throw new InvalidOperationException($"status {e.Status} for a malformed request: {e.Message} ({Encoding.UTF8.GetString(input)})", e);
            }
        }, typeof(ApiException));
        output.WriteLine($"{endpoint}: {executions} executions in {FuzzHarness.Seconds} s");
        Assert.True(executions > 0);
    }
}
