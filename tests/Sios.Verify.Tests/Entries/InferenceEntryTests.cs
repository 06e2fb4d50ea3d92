using System.Text;
using Sios.Verify.Entries;

namespace Sios.Verify.Tests.Entries;

public sealed class InferenceEntryTests
{
    private const string Weights = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    private const string Adapter = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    private const string Reason = "the process ended while the request was being answered (unless an inference entry has this id, no answer was sealed for it)";

    private const string Full = """{"v":1,"type":"inference","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"key:a1b2c3d4e5f6","brain":"qwen","weights":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","adapter":"sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","request":"cmVxdWVzdA\u002B/=","response":"cmVzcG9uc2U=","tokens":{"prompt":12,"completion":34},"finish":"stop","stream":true,"begin":41,"api":"chat.completions","status":200,"folded":2}""";

    private const string Refusal = """{"v":1,"type":"inference","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"key:a1b2c3d4e5f6","response":"cmVzcG9uc2U=","finish":"error","stream":false,"api":"embeddings","status":429}""";

    private const string Begin = """{"v":1,"type":"inference.begin","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"key:a1b2c3d4e5f6","brain":"remote","upstream":{"url":"https://llm.example:8443/api","model":"big-1"},"request":"cmVxdWVzdA\u002B/=","stream":true,"api":"chat.completions"}""";

    private const string Interrupted = """{"v":1,"type":"inference.interrupted","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"key:a1b2c3d4e5f6","inference":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","api":"chat.completions","brain":"qwen","request":"cmVxdWVzdA\u002B/=","started":"2026-11-26T09:59:59.000Z","reason":"the process ended while the request was being answered (unless an inference entry has this id, no answer was sealed for it)"}""";

    private const string Unreadable = """{"v":1,"type":"inference.interrupted","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"system","note":"unreadable","reason":"the process ended while the request was being answered (unless an inference entry has this id, no answer was sealed for it)"}""";

    [Fact]
    public void A_full_inference_entry_is_written_byte_for_byte_and_read_back()
    {
        var entry = new InferenceEntry(
            "key:a1b2c3d4e5f6", new BrainRef("qwen", Weights, Adapter), "cmVxdWVzdA+/=", "cmVzcG9uc2U=", new TokenCounts(12, 34), "stop", true, 41,
            "chat.completions", 200, Folded: 2);
        var read = Golden.Check(entry, Full, InferenceEntry.Read).Body;
        Assert.Equal(new BrainRef("qwen", Weights, Adapter), read.Brain);
        Assert.Equal("cmVxdWVzdA+/=", read.Request);
        Assert.Equal(new TokenCounts(12, 34), read.Tokens);
        Assert.Equal((41L, 200, 2), (read.Begin, read.Status, read.Folded));
    }

    private const string ToolCall = """{"v":1,"type":"inference","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"key:a1b2c3d4e5f6","brain":"qwen","weights":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","template":"sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","request":"cmVxdWVzdA\u002B/=","response":"cmVzcG9uc2U=","tokens":{"prompt":12,"completion":34},"finish":"stop","stream":false,"api":"chat.completions","status":200,"tools":{"offered":3,"called":["get_weather","get_weather","add"]}}""";

    [Fact]
    public void A_tool_call_answer_names_the_tools_offered_and_called_and_the_pinned_template()
    {
        var entry = new InferenceEntry(
            "key:a1b2c3d4e5f6", new BrainRef("qwen", Weights, Template: Adapter), "cmVxdWVzdA+/=", "cmVzcG9uc2U=", new TokenCounts(12, 34), "stop", false, null,
            "chat.completions", 200, Tools: new ToolUse(3, ["get_weather", "get_weather", "add"]));
        var read = Golden.Check(entry, ToolCall, InferenceEntry.Read).Body;
        Assert.Equal(3, read.Tools!.Offered);
        Assert.Equal(["get_weather", "get_weather", "add"], read.Tools.Called);
        Assert.Equal(Adapter, read.Brain!.Template);
        Assert.Null(read.Brain.Adapter);
    }

    [Fact]
    public void A_refusal_leaves_out_what_it_never_had()
    {
        var entry = new InferenceEntry("key:a1b2c3d4e5f6", null, null, "cmVzcG9uc2U=", null, "error", false, null, "embeddings", 429);
        var read = Golden.Check(entry, Refusal, InferenceEntry.Read).Body;
        Assert.Null(read.Brain);
        Assert.Null(read.Request);
        Assert.Null(read.Tokens);
        Assert.Null(read.Begin);
        Assert.Equal(0, read.Folded);
        Assert.Null(read.Tools);
    }

    [Fact]
    public void A_stream_begin_names_an_upstream_brain_by_its_endpoint()
    {
        var entry = new InferenceBeginEntry("key:a1b2c3d4e5f6", new BrainRef("remote", Upstream: new UpstreamRef("https://llm.example:8443/api", "big-1")), "cmVxdWVzdA+/=", "chat.completions");
        var read = Golden.Check(entry, Begin, InferenceBeginEntry.Read).Body;
        Assert.Equal(new UpstreamRef("https://llm.example:8443/api", "big-1"), read.Brain!.Upstream);
        Assert.Null(read.Brain.Weights);
    }

    [Fact]
    public void An_interrupted_request_is_written_from_its_note_or_as_unreadable()
    {
        var fromNote = new InferenceInterruptedEntry("key:a1b2c3d4e5f6", Golden.Id, "chat.completions", "qwen", "cmVxdWVzdA+/=", "2026-11-26T09:59:59.000Z", null, Reason);
        Assert.Equal(Golden.Id, Golden.Check(fromNote, Interrupted, InferenceInterruptedEntry.Read).Body.Inference);
        var unreadable = new InferenceInterruptedEntry("system", null, null, null, null, null, "unreadable", Reason);
        Assert.Equal("unreadable", Golden.Check(unreadable, Unreadable, InferenceInterruptedEntry.Read).Body.Note);
    }

    [Theory]
    [InlineData("\"response\":\"cmVzcG9uc2U=\",")]
    [InlineData("\"finish\":\"stop\",")]
    [InlineData("\"stream\":true,")]
    [InlineData("\"api\":\"chat.completions\",")]
    [InlineData(",\"status\":200")]
    [InlineData(",\"completion\":34")]
    public void An_inference_entry_missing_a_member_it_needs_is_refused(string member) =>
        Golden.RefusedWithout(Full, member, InferenceEntry.Read);

    [Fact]
    public void Members_of_the_wrong_kind_are_refused()
    {
        foreach (var (from, to) in new[] { ("\"status\":200", "\"status\":\"200\""), ("\"stream\":true", "\"stream\":1"), ("\"begin\":41", "\"begin\":4.5"), ("\"brain\":\"qwen\"", "\"brain\":7") })
        {
            var bytes = Encoding.UTF8.GetBytes(Full.Replace(from, to, StringComparison.Ordinal));
            Assert.Throws<FormatViolationException>(() => InferenceEntry.Read(bytes));
            Assert.False(InferenceEntry.TryRead(bytes, out _));
        }
    }

    [Fact]
    public void The_begin_and_interrupted_entries_need_their_members_too()
    {
        Golden.RefusedWithout(Begin, "\"request\":\"cmVxdWVzdA\\u002B/=\",", InferenceBeginEntry.Read);
        Golden.RefusedWithout(Begin, ",\"api\":\"chat.completions\"", InferenceBeginEntry.Read);
        Golden.RefusedWithout(Begin, "\"model\":\"big-1\"", InferenceBeginEntry.Read);
        Golden.RefusedWithout(Unreadable, ",\"reason\":\"" + Reason + "\"", InferenceInterruptedEntry.Read);
    }

    [Fact]
    public void A_reader_refuses_an_entry_of_another_type()
    {
        var e = Assert.Throws<FormatViolationException>(() => InferenceEntry.Read(Encoding.UTF8.GetBytes(Begin)));
        Assert.Contains("of type 'inference.begin', not 'inference'", e.Message, StringComparison.Ordinal);
        Assert.False(InferenceBeginEntry.TryRead(Encoding.UTF8.GetBytes(Full), out var none));
        Assert.Null(none);
    }
}
