using System.Text;
using System.Text.Json;
using Sios.Server.Http;
using Sios.Server.Doors.OpenAi;
using Sios.Server.Inference;
using Sios.Tests.Fuzz;
using Xunit.Abstractions;

namespace Sios.Server.Tests.Fuzz;

/// <summary>
/// Issue 6, item 4: hostile JSON request bodies for the gateway. Mutants of valid chat, completion and embeddings
/// requests go through JsonFields.ParseObject and the request parsers; the only acceptable failure is a 4xx ApiException.
/// </summary>
public sealed class OpenAiRequestFuzzTests(ITestOutputHelper output)
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

    public static TheoryData<string> Endpoints => ["chat", "completion", "embeddings"];

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
            _ => (Embeddings, (Action<JsonElement>)(root => OpenAiRequests.ParseEmbeddings(root))),
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
        output.WriteLine($"OpenAiRequests ({endpoint}): {executions} executions in {FuzzHarness.Seconds} s");
        Assert.True(executions > 0);
    }
}
