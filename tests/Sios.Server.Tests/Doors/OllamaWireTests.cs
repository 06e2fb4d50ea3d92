using System.Text;
using System.Text.Json;
using Sios.Brains.Engines;
using Sios.Server.Doors.Ollama;
using Sios.Server.Http;
using Sios.Server.Inference;

namespace Sios.Server.Tests.Doors;

/// <summary>
/// Ollama's wire as the door reads and writes it: model names, options, tool calls and results tied together without
/// mandatory ids, and answers, a stream's calls sent whole and its receipt in the last line.
/// </summary>
public sealed class OllamaWireTests
{
    private static readonly StreamReceipt Sealed = new(42, "/log/receipts/42", "cmVx", "cmVz");

    [Theory]
    [InlineData("demo", "demo")]
    [InlineData("demo:latest", "demo")]
    [InlineData("demo:v2", "demo:v2")]
    [InlineData("demo-tools:latest", "demo-tools")]
    public void Name_and_name_latest_are_one_brain_and_any_other_tag_is_left_to_match_nothing(string model, string brain) =>
        Assert.Equal(brain, OllamaRequests.BrainName(model));

    [Fact]
    public void A_chat_streams_by_default_and_reads_the_options_ollama_clients_send()
    {
        var request = Chat("""
            {"model":"demo:latest","messages":[{"role":"User","content":"hi"}],"keep_alive":"5m","format":"json",
             "options":{"temperature":0.2,"top_p":0.5,"num_predict":7,"stop":["\n"],"seed":9,"num_ctx":4096,"top_k":40,"use_mmap":true}}
            """);
        Assert.Equal("demo", request.Model);
        Assert.Equal("demo:latest", request.Asked);
        Assert.True(request.Stream);
        Assert.Equal(ResponseFormat.JsonObject, request.Format);
        Assert.Equal((7, 0.2f, 0.5f, 9u), (request.MaxTokens!.Value, request.Temperature!.Value, request.TopP!.Value, request.Seed!.Value));
        Assert.Equal(["\n"], request.Stop);
        Assert.Equal("user", request.Messages[0].Role);
        Assert.Equal(ToolMode.None, request.Tools.Mode);
    }

    [Fact]
    public void Ollama_s_minus_one_leaves_the_length_and_seed_to_the_brain_and_a_schema_is_followed()
    {
        var request = Chat("""{"model":"m","stream":false,"think":false,"format":{"type":"object"},"options":{"num_predict":-1,"seed":-1},"messages":[{"role":"user","content":"x"}]}""");
        Assert.False(request.Stream);
        Assert.Null(request.MaxTokens);
        Assert.Null(request.Seed);
        Assert.Equal(ResponseFormat.JsonSchema("""{"type":"object"}"""), request.Format);
    }

    [Fact]
    public void Generate_is_a_chat_of_one_turn_after_its_system_and_takes_go_clients_empty_fields()
    {
        var request = Generate("""{"model":"m","prompt":"Why?","system":"Be brief.","suffix":"","template":"","raw":false,"context":[],"images":null}""");
        Assert.Null(request.Prompt);
        Assert.Equal([("system", "Be brief."), ("user", "Why?")], request.Messages.Select(m => (m.Role, m.Content)));
    }

    [Fact]
    public void Calls_without_ids_get_ids_and_results_answer_them_by_tool_name_or_in_order()
    {
        var request = Chat("""
            {"model":"m","tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}},
                                  {"type":"function","function":{"name":"add","parameters":{"type":"object","properties":{"a":{"type":"integer"}}}}}],
             "messages":[
              {"role":"user","content":"x"},
              {"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Oslo"}}},{"function":{"name":"add","arguments":{"a":1}}},{"function":{"name":"add","arguments":{"a":2}}}]},
              {"role":"tool","content":"3","tool_name":"add"},
              {"role":"tool","content":"rain"},
              {"role":"tool","content":"4"},
              {"role":"assistant","content":"","tool_calls":[{"id":"call_given","function":{"index":0,"name":"add","arguments":{"a":3}}}]},
              {"role":"tool","content":"5","tool_call_id":"call_given"}]}
            """);
        var calls = request.Messages[1].Calls.ToList();
        Assert.Equal(["get_weather", "add", "add"], calls.Select(c => c.Name));
        Assert.All(calls, c => Assert.Matches("^[a-z0-9]{9}$", c.CallId));
        Assert.Equal(3, calls.Select(c => c.CallId).Distinct().Count());
        Assert.Equal("""{"city":"Oslo"}""", calls[0].Arguments);

        // 'add' answers the first call of add; the next result, without a name, the first call left (get_weather).
        Assert.Equal([calls[1].CallId, calls[0].CallId, calls[2].CallId, "call_given"], request.Messages.Skip(2).Select(m => m.Result?.CallId).OfType<string>());
        Assert.Equal(ToolMode.Auto, request.Tools.Mode);
        Assert.Equal(2, request.Tools.Tools.Count);
    }

    [Fact]
    public void A_streamed_call_is_sent_whole_once_complete_with_its_arguments_as_an_object_and_the_receipt_ends_the_stream()
    {
        var writer = Writer(chat: true);
        Assert.Empty(writer.Start(null));
        var lines = new List<byte[]>();
        lines.AddRange(writer.CallDelta(new FunctionCallDelta(0, "call_a", "get_weather", "")));
        lines.AddRange(writer.CallDelta(new FunctionCallDelta(0, null, null, "{\"city\":")));
        lines.AddRange(writer.CallDelta(new FunctionCallDelta(0, null, null, " \"Oslo\"}")));
        Assert.Empty(lines);
        lines.AddRange(writer.CallDelta(new FunctionCallDelta(1, "call_b", "add", "{\"a\":\n1}")));
        var first = Assert.Single(lines);
        lines.AddRange(writer.Finish(FinishReason.ToolCalls, new Usage(10, 5)));
        Assert.Equal(2, lines.Count);
        var end = writer.Receipt(Sealed, answered: true);

        Assert.All(lines.Append(end), l => Assert.Equal((byte)'\n', l[^1]));
        Assert.All(lines.Append(end), l => Assert.Equal(1, l.Count(b => b == (byte)'\n')));
        using (var call = JsonDocument.Parse(first))
        {
            Assert.False(call.RootElement.GetProperty("done").GetBoolean());
            var message = call.RootElement.GetProperty("message");
            Assert.Equal("", message.GetProperty("content").GetString());
            var only = Assert.Single(message.GetProperty("tool_calls").EnumerateArray());
            Assert.Equal("call_a", only.GetProperty("id").GetString());
            Assert.Equal(0, only.GetProperty("function").GetProperty("index").GetInt32());
            Assert.Equal("get_weather", only.GetProperty("function").GetProperty("name").GetString());
            Assert.Equal("Oslo", only.GetProperty("function").GetProperty("arguments").GetProperty("city").GetString());
        }

        using (var second = JsonDocument.Parse(lines[1]))
        {
            var call = second.RootElement.GetProperty("message").GetProperty("tool_calls")[0].GetProperty("function");
            Assert.Equal(1, call.GetProperty("index").GetInt32());
            Assert.Equal(1, call.GetProperty("arguments").GetProperty("a").GetInt32());
        }

        using var done = JsonDocument.Parse(end);
        var root = done.RootElement;
        Assert.Equal("demo:latest", root.GetProperty("model").GetString());
        Assert.True(root.GetProperty("done").GetBoolean());
        Assert.Equal("stop", root.GetProperty("done_reason").GetString());
        Assert.Equal((10, 5), (root.GetProperty("prompt_eval_count").GetInt32(), root.GetProperty("eval_count").GetInt32()));
        Assert.Equal(42, root.GetProperty("sios").GetProperty("index").GetInt64());
        Assert.Equal("cmVz", root.GetProperty("sios").GetProperty("response_nonce").GetString());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,7})?Z$", root.GetProperty("created_at").GetString());
    }

    [Fact]
    public void A_stream_cut_short_ends_with_its_error_then_a_line_of_the_receipt_alone()
    {
        var writer = Writer(chat: false);
        using var text = JsonDocument.Parse(Assert.Single(writer.Text("Hel")));
        Assert.Equal("Hel", text.RootElement.GetProperty("response").GetString());
        Assert.Equal("""{"error":"The server is busy."}""" + "\n", Encoding.UTF8.GetString(writer.Failure(new ApiException(503, "The server is busy."))));
        using var receipt = JsonDocument.Parse(writer.Receipt(Sealed, answered: false));
        Assert.Equal(["sios"], receipt.RootElement.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void A_whole_answer_leaves_out_a_call_cut_off_mid_arguments_and_says_length()
    {
        var writer = Writer(chat: true);
        using var answer = JsonDocument.Parse(writer.Whole("", FinishReason.Length, new Usage(3, 4),
            [new FunctionCallContent("call_a", "add", """{"a":1}"""), new FunctionCallContent("call_b", "add", """{"a":""")]));
        var message = answer.RootElement.GetProperty("message");
        Assert.Equal(["call_a"], message.GetProperty("tool_calls").EnumerateArray().Select(c => c.GetProperty("id").GetString()));
        Assert.Equal("length", answer.RootElement.GetProperty("done_reason").GetString());
        Assert.True(answer.RootElement.GetProperty("total_duration").GetInt64() >= 0);
    }

    [Fact]
    public void Embeddings_are_answered_under_the_name_asked()
    {
        var door = OllamaEmbedDoor.Instance;
        using var doc = JsonFields.ParseObject("""{"model":"ledger:latest","input":["a","b"],"truncate":false,"keep_alive":0}"""u8.ToArray());
        var request = door.Parse(doc.RootElement);
        Assert.Equal("ledger", request.Model);
        using var answer = JsonDocument.Parse(door.Answer(request, "ledger", new EmbeddingResult([[0.5f, -1f], [2f, 0f]], 6)));
        Assert.Equal("ledger:latest", answer.RootElement.GetProperty("model").GetString());
        Assert.Equal([0.5, -1], answer.RootElement.GetProperty("embeddings")[0].EnumerateArray().Select(v => v.GetDouble()));
        Assert.Equal(6, answer.RootElement.GetProperty("prompt_eval_count").GetInt32());
    }

    private static OllamaResponses Writer(bool chat) =>
        new(chat, new AnswerContext("0190", "demo", DateTimeOffset.UnixEpoch, new OllamaRequest { Model = "demo", Asked = "demo:latest" }));

    private static OllamaRequest Chat(string body)
    {
        using var doc = JsonFields.ParseObject(Encoding.UTF8.GetBytes(body));
        return OllamaRequests.ParseChat(doc.RootElement);
    }

    private static OllamaRequest Generate(string body)
    {
        using var doc = JsonFields.ParseObject(Encoding.UTF8.GetBytes(body));
        return OllamaRequests.ParseGenerate(doc.RootElement);
    }
}
