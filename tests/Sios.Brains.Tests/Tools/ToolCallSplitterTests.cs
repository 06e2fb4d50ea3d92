using Sios.Brains.Engines;
using Sios.Brains.Tools;

namespace Sios.Brains.Tests.Tools;

public sealed class ToolCallSplitterTests
{
    private static readonly ToolDefinition[] s_tools = [new("add", null, """{"type":"object","properties":{"a":{"type":"integer"}}}""")];

    private static (string Shown, string Tail, IReadOnlyList<FunctionCallContent> Calls) Run(ToolCallFormat format, bool callsOnly, params string[] pieces)
    {
        var splitter = new ToolCallSplitter(format, s_tools, callsOnly);
        var shown = string.Concat(pieces.Select(splitter.Push));
        var (rest, calls) = splitter.Finish();
        return (shown, rest, calls);
    }

    [Fact]
    public void Text_before_the_marker_streams_and_the_call_is_taken_out()
    {
        var (shown, rest, calls) = Run(ToolCallFormat.Hermes, false, "Let me add. <to", "ol_call>\n{\"name\": \"add\", ", "\"arguments\": {\"a\": 1}}\n</tool_call>");
        Assert.Equal("Let me add. ", shown);
        Assert.Equal("", rest);
        Assert.Equal("add", Assert.Single(calls).Name);
    }

    [Fact]
    public void A_held_back_prefix_that_is_not_the_marker_is_given_back()
    {
        var (shown, rest, calls) = Run(ToolCallFormat.Hermes, false, "a <to", "e b");
        Assert.Equal("a <toe b", shown + rest);
        Assert.Empty(calls);
    }

    [Fact]
    public void A_broken_call_is_given_back_as_text_not_lost()
    {
        var (shown, rest, calls) = Run(ToolCallFormat.Hermes, false, "x <tool_call>\n{\"name\": \"add\", \"argu");
        Assert.Equal("x <tool_call>\n{\"name\": \"add\", \"argu", shown + rest);
        Assert.Empty(calls);
    }

    [Fact]
    public void Start_only_formats_decide_on_the_first_characters()
    {
        var (shown, rest, calls) = Run(ToolCallFormat.Llama3Json, false, " {\"na", "me\": \"add\", \"parameters\": {\"a\": 2}}");
        Assert.Equal("", shown + rest);
        Assert.Equal("{\"a\": 2}", Assert.Single(calls).Arguments);

        (shown, rest, calls) = Run(ToolCallFormat.Llama3Json, false, "The answer is {\"name\": \"add\"}");
        Assert.Equal("The answer is {\"name\": \"add\"}", shown + rest);
        Assert.Empty(calls);
    }

    [Fact]
    public void A_calls_only_answer_shows_no_text()
    {
        var (shown, rest, calls) = Run(ToolCallFormat.Generic, true, "{\"tool_calls\": [{\"name\": \"add\", \"arguments\": {\"a\": 3}}]}");
        Assert.Equal("", shown + rest);
        Assert.Single(calls);
    }

    private static readonly ToolDefinition[] s_two =
    [
        new("add", null, """{"type":"object"}"""),
        new("note", null, """{"type":"object"}"""),
    ];

    // Arguments whose strings hold braces, brackets, quotes and escapes, so only a reader that follows strings ends them right.
    private const string Tricky = """{"text": "a } b ] \" {", "list": [1, {"x": "\\"}], "n": -2.5e3}""";

    /// <summary>Answers of calls in the exact shape each family's grammar writes, with the calls they hold.</summary>
    public static TheoryData<string, string, string[]> GrammarShaped => new()
    {
        { "hermes", "<tool_call>\n{\"name\": \"add\", \"arguments\": " + Tricky + "}\n</tool_call>\n<tool_call>\n{\"name\": \"note\", \"arguments\": {}}\n</tool_call>", ["add", "note"] },
        { "llama3-json", "{\"name\": \"note\", \"parameters\": " + Tricky + "}", ["note"] },
        { "mistral-json", "[TOOL_CALLS][{\"name\": \"add\", \"arguments\": " + Tricky + ", \"id\": \"abcDEF123\"}, {\"name\": \"note\", \"arguments\": {\"k\": \"}\"}, \"id\": \"zzzzzzzzz\"}]", ["add", "note"] },
        { "mistral-args", "[TOOL_CALLS]add[ARGS]" + Tricky + "[TOOL_CALLS]note[ARGS]{\"q\": [[]]}", ["add", "note"] },
        { "generic", "{\"tool_calls\": [{\"name\": \"add\", \"arguments\": " + Tricky + "}, {\"name\": \"add\", \"arguments\": {}}]}", ["add", "add"] },
    };

    private static ToolCallFormat Format(string name) => name switch
    {
        "hermes" => ToolCallFormat.Hermes,
        "llama3-json" => ToolCallFormat.Llama3Json,
        "mistral-json" => ToolCallFormat.MistralJson,
        "mistral-args" => ToolCallFormat.MistralArgs,
        _ => ToolCallFormat.Generic,
    };

    [Theory]
    [MemberData(nameof(GrammarShaped))]
    public void Calls_stream_piece_by_piece_and_join_to_the_calls_of_the_whole_answer(string formatName, string answer, string[] names)
    {
        var format = Format(formatName);
        var whole = format.Parse(answer, s_two)!;
        Assert.Equal(names, whole.Select(c => c.Name));
        var random = new Random(formatName.Length);
        for (var run = 0; run < 50; run++)
        {
            // Pieces of 1 to 6 characters, as tokens cut an answer anywhere.
            var splitter = new ToolCallSplitter(format, s_two, callsOnly: true);
            var deltas = new List<FunctionCallDelta>();
            for (var at = 0; at < answer.Length;)
            {
                var length = Math.Min(random.Next(1, 7), answer.Length - at);
                Assert.Equal("", splitter.Push(answer.Substring(at, length)));
                deltas.AddRange(splitter.TakeCallDeltas());
                at += length;
            }

            var (rest, calls) = splitter.Finish();
            Assert.Equal("", rest);
            Assert.False(splitter.CallCutOff);
            Assert.Equal(whole.Select(c => (c.Name, c.Arguments)), calls.Select(c => (c.Name, c.Arguments)));
            for (var i = 0; i < calls.Count; i++)
            {
                var mine = deltas.Where(d => d.Index == i).ToList();
                var head = Assert.Single(mine, d => d.CallId is not null);
                Assert.Same(head, mine[0]);
                Assert.Equal((calls[i].CallId, calls[i].Name, ""), (head.CallId, head.Name, head.Arguments));
                Assert.Equal(calls[i].Arguments, string.Concat(mine.Select(d => d.Arguments)));
            }

            Assert.Equal(Enumerable.Range(0, calls.Count), deltas.Select(d => d.Index).Distinct());
        }
    }

    [Fact]
    public void Text_before_the_marker_is_shown_and_the_call_streams_after_it()
    {
        var splitter = new ToolCallSplitter(ToolCallFormat.Hermes, s_tools, callsOnly: false);
        Assert.Equal("Let me ", splitter.Push("Let me <tool"));
        Assert.Empty(splitter.TakeCallDeltas());
        Assert.Equal("", splitter.Push("_call>\n{\"name\": \"add\", \"arguments\": {\"a\""));
        var head = splitter.TakeCallDeltas();
        Assert.Equal([new FunctionCallDelta(0, head[0].CallId, "add", ""), new FunctionCallDelta(0, null, null, "{\"a\"")], head);
        Assert.Equal("", splitter.Push(": 1}}\n</tool_call>"));
        Assert.Equal([new FunctionCallDelta(0, null, null, ": 1}")], splitter.TakeCallDeltas());
        var (rest, calls) = splitter.Finish();
        Assert.Equal(("", "{\"a\": 1}", head[0].CallId), (rest, Assert.Single(calls).Arguments, calls[0].CallId));
    }

    [Fact]
    public void A_call_cut_off_by_the_length_limit_keeps_the_arguments_it_had()
    {
        var splitter = new ToolCallSplitter(ToolCallFormat.Hermes, s_tools, callsOnly: true);
        splitter.Push("<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 1");
        var (rest, calls) = splitter.Finish();
        Assert.Equal("", rest);
        Assert.Equal("{\"a\": 1", Assert.Single(calls).Arguments);
        Assert.True(splitter.CallCutOff);
    }

    [Theory]
    [InlineData("<tool_call>\n{\"name\": \"subtract\", \"arguments\": {\"a\": 1}}\n</tool_call>")]
    [InlineData("<tool_call>{\"name\": \"add\", \"arguments\": {\"a\": 1}}</tool_call>")]
    [InlineData("<tool_call>\n{\"name\": \"add\", \"arguments\": [1]}\n</tool_call>")]
    public void Text_that_leaves_the_grammar_shape_is_read_only_when_the_answer_ends(string answer)
    {
        var splitter = new ToolCallSplitter(ToolCallFormat.Hermes, s_tools, callsOnly: false);
        Assert.Equal("", splitter.Push(answer));
        Assert.Empty(splitter.TakeCallDeltas());
        var (rest, calls) = splitter.Finish();
        var whole = ToolCallFormat.Hermes.Parse(answer, s_tools);
        Assert.Equal(whole?.Select(c => (c.Name, c.Arguments)) ?? [], calls.Select(c => (c.Name, c.Arguments)));
        Assert.Equal(whole is null ? answer : "", rest);
    }
}
