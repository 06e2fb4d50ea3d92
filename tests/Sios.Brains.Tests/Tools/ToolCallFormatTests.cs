using System.Text.Json;
using Sios.Brains.Engines;
using Sios.Brains.Tools;

namespace Sios.Brains.Tests.Tools;

public sealed class ToolCallFormatTests
{
    private static readonly ToolDefinition[] s_tools =
    [
        new("get_weather", "Weather of a city", """{"type":"object","properties":{"city":{"type":"string","enum":["Paris","Oslo"]}},"required":["city"]}"""),
        new("add", null, """{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"}},"required":["a","b"]}"""),
    ];

    public static TheoryData<string, string, string> Answers => new()
    {
        { "hermes", "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>", "get_weather" },
        { "llama3-json", "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}", "get_weather" },
        { "mistral-json", "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}, \"id\": \"abcDEF123\"}]", "get_weather" },
        { "mistral-args", "[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Paris\"}", "get_weather" },
        { "mistral-args", "[TOOL_CALLS]get_weather[CALL_ID]abcDEF123[ARGS]{\"city\": \"Paris\"}", "get_weather" },
        { "generic", "{\"tool_calls\": [{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}]}", "get_weather" },
    };

    private static ToolCallFormat Format(string name) => new[]
    {
        ToolCallFormat.Hermes, ToolCallFormat.Llama3Json, ToolCallFormat.MistralJson, ToolCallFormat.MistralArgs, ToolCallFormat.Generic,
    }.Single(f => f.Name == name);

    [Theory]
    [MemberData(nameof(Answers))]
    public void Each_format_reads_its_own_calls(string format, string answer, string name)
    {
        var calls = Format(format).Parse(answer, s_tools);
        Assert.NotNull(calls);
        var call = Assert.Single(calls);
        Assert.Equal(name, call.Name);
        using var arguments = JsonDocument.Parse(call.Arguments);
        Assert.Equal("Paris", arguments.RootElement.GetProperty("city").GetString());
        Assert.StartsWith(Format(format).Marker, answer, StringComparison.Ordinal);
        Assert.StartsWith(Format(format).CallPrefix, answer, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Answers))]
    public void A_call_of_a_tool_not_offered_is_no_call(string format, string answer, string name)
    {
        Assert.Null(Format(format).Parse(answer.Replace(name, "rm_rf", StringComparison.Ordinal), s_tools));
    }

    [Theory]
    [MemberData(nameof(Answers))]
    public void Truncated_calls_are_no_calls(string format, string answer, string name)
    {
        _ = name;
        Assert.Null(Format(format).Parse(answer[..(answer.Length - 3)], s_tools));
    }

    [Fact]
    public void Hermes_reads_several_calls_and_keeps_their_order()
    {
        var calls = ToolCallFormat.Hermes.Parse(
            "<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": 2}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": \"{\\\"city\\\": \\\"Oslo\\\"}\"}\n</tool_call>",
            s_tools);
        Assert.NotNull(calls);
        Assert.Equal(["add", "get_weather"], calls.Select(c => c.Name));
        Assert.Equal("{\"city\": \"Oslo\"}", calls[1].Arguments);
        Assert.NotEqual(calls[0].CallId, calls[1].CallId);
        Assert.All(calls, c => Assert.StartsWith("call_", c.CallId, StringComparison.Ordinal));
    }

    [Fact]
    public void Mistral_ids_are_nine_alphanumerics_as_its_templates_demand()
    {
        var id = ToolCallFormat.MistralArgs.NewCallId();
        Assert.Equal(9, id.Length);
        Assert.All(id, c => Assert.True(char.IsAsciiLetterOrDigit(c)));
    }

    [Theory]
    [InlineData("{%- for m in messages %}<|im_start|>{{ m.role }}{% if tools %}<tool_call>{% endif %}{% endfor %}", "hermes")]
    [InlineData("[INST]{{ m }}[/INST][TOOL_CALLS][{{ x }}]", "mistral-json")]
    [InlineData("[TOOL_CALLS]{{ name }}[ARGS]{{ args }}", "mistral-args")]
    [InlineData("<|start_header_id|>ipython<|end_header_id|> {\"name\": …, \"parameters\": …}", "llama3-json")]
    [InlineData("{% for message in messages %}{{ message.content }}{% endfor %}", "generic")]
    public void The_family_is_read_from_the_template(string template, string format)
    {
        Assert.Equal(format, ToolCallFormat.Detect(template).Name);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Every_format_compiles_a_grammar_llama_cpp_accepts(bool parallel)
    {
        foreach (var format in new[] { ToolCallFormat.Hermes, ToolCallFormat.Llama3Json, ToolCallFormat.MistralJson, ToolCallFormat.MistralArgs, ToolCallFormat.Generic })
        {
            var grammar = format.Grammar(s_tools, parallel);
            Assert.StartsWith("root ::= ", grammar, StringComparison.Ordinal);
            Assert.Equal(GbnfFault.None, GbnfCheck.Run(grammar, JsonSchemaLimits.MaxExpandedElements, JsonSchemaLimits.MaxParallelPaths).Fault);
            Assert.Contains("get_weather", grammar, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_refused_schema_is_named_by_its_tool()
    {
        var bad = new ToolDefinition("loop", null, """{"$ref":"#/$defs/a","$defs":{"a":{"$ref":"#/$defs/a"}}}""");
        var e = Assert.Throws<ArgumentException>(() => ToolCallFormat.Hermes.Grammar([s_tools[0], bad], parallel: true));
        Assert.StartsWith("tools[1] ('loop')", e.Message, StringComparison.Ordinal);
    }
}
