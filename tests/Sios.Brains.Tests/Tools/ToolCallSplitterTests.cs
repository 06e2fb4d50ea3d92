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
}
