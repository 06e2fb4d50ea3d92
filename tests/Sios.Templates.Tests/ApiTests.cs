using System.Text.Json.Nodes;

namespace Sios.Templates.Tests;

/// <summary>The public surface: parse errors that name the construct and place, raised errors, options, thread safety.</summary>
public sealed class ApiTests
{
    [Theory]
    [InlineData("a\nb\n  {% extends 'base.html' %}", "statement 'extends'", 3, 6)]
    [InlineData("{% include 'x' %}", "statement 'include'", 1, 4)]
    [InlineData("{% raw %}x{% endraw %}", "statement 'raw'", 1, 4)]
    [InlineData("{% with a = 1 %}{% endwith %}", "statement 'with'", 1, 4)]
    [InlineData("{% block body %}{% endblock %}", "statement 'block'", 1, 4)]
    [InlineData("{% import 'm' as m %}", "statement 'import'", 1, 4)]
    [InlineData("{% do x.append(1) %}", "statement 'do'", 1, 4)]
    public void An_unsupported_statement_fails_at_parse_naming_it_and_its_place(string source, string construct, int line, int column)
    {
        var e = Assert.Throws<ChatTemplateException>(() => ChatTemplate.Parse(source));
        Assert.Equal(construct, e.Construct);
        Assert.Equal((line, column), (e.Line, e.Column));
        Assert.Contains($"at {line}:{column}", e.Message, StringComparison.Ordinal);
        Assert.False(e.Raised);
    }

    [Theory]
    [InlineData("{% if x %}never closed", "statement 'if'", 1, 1)]
    [InlineData("line\n{% for m in messages %}x", "statement 'for'", 2, 1)]
    [InlineData("{{ 'unterminated }}", "syntax", 1, 20)]
    [InlineData("{{ x | }}", "syntax", 1, 8)]
    [InlineData("{{ x | 'f' }}", "filter", 1, 6)]
    [InlineData("{# open comment", "comment", 1, 1)]
    public void Syntax_errors_say_where(string source, string construct, int line, int column)
    {
        var e = Assert.Throws<ChatTemplateException>(() => ChatTemplate.Parse(source));
        Assert.Equal(construct, e.Construct);
        Assert.Equal((line, column), (e.Line, e.Column));
    }

    [Fact]
    public void Positions_count_in_the_original_source_despite_whitespace_control()
    {
        var e = Assert.Throws<ChatTemplateException>(() => ChatTemplate.Parse("x\n    {%- if true %}\n{% generation %}  {{ a b }}{% endif %}"));
        Assert.Equal((3, 24), (e.Line, e.Column));
    }

    [Fact]
    public void Unknown_filters_tests_and_methods_fail_at_render_naming_them_as_the_reference_does()
    {
        // The vector templates call filters the reference lacks (from_json, reject, min) in branches they do not take,
        // so a name is only refused when it is reached.
        var template = ChatTemplate.Parse("{% if x %}{{ x|from_json }}{% endif %}{% if y %}{{ 1 is float }}{% endif %}{% if z %}{{ '0'.zfill(3) }}{% endif %}ok");
        Assert.Equal("ok", template.Render([]));
        Assert.Equal("filter 'from_json'", Assert.Throws<ChatTemplateException>(() => template.Render(new JsonObject { ["x"] = "1" })).Construct);
        Assert.Equal("test 'float'", Assert.Throws<ChatTemplateException>(() => template.Render(new JsonObject { ["y"] = true })).Construct);
        var method = Assert.Throws<ChatTemplateException>(() => template.Render(new JsonObject { ["z"] = true }));
        Assert.Equal("method 'str.zfill'", method.Construct);
        Assert.Equal((1, 1 + template.Source.IndexOf("zfill", StringComparison.Ordinal)), (method.Line, method.Column));
    }

    [Fact]
    public void Raise_exception_carries_the_templates_message()
    {
        var template = ChatTemplate.Parse("{% for m in messages %}\n{% if m.role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% endfor %}");
        var e = Assert.Throws<ChatTemplateException>(() => template.Render(new JsonObject { ["messages"] = new JsonArray(new JsonObject { ["role"] = "system" }) }));
        Assert.True(e.Raised);
        Assert.Equal("System role not supported", e.Message);
        Assert.Equal("raise_exception", e.Construct);
        Assert.Equal(2, e.Line);
    }

    [Fact]
    public void Variables_take_json_values_with_ints_kept_as_ints()
    {
        var variables = new JsonObject
        {
            ["i"] = 1, ["f"] = 1.5, ["l"] = 3L, ["d"] = 2.5m, ["b"] = true, ["n"] = null, ["s"] = "x",
            ["o"] = new JsonObject { ["k"] = new JsonArray(1, "two", null) },
            ["e"] = JsonValue.Create(System.Text.Json.JsonDocument.Parse("1.0").RootElement), ["c"] = JsonValue.Create(new[] { 1, 2 }),
        };
        var text = ChatTemplate.Parse("{{ i }} {{ f }} {{ l }} {{ d }} {{ b }} [{{ n }}] {{ s }} {{ o }} {{ e }} {{ c }} {{ i is integer }} {{ f is integer }}").Render(variables);
        Assert.Equal("""1 1.5 3 2.5 true [] x {"k": [1, "two", null]} 1 [1, 2] true false""", text);
    }

    [Fact]
    public void Values_json_cannot_hold_are_refused_and_others_converted()
    {
        var template = ChatTemplate.Parse("{{ x }}");
        Assert.Throws<ChatTemplateException>(() => template.Render(new JsonObject { ["x"] = JsonValue.Create(double.NaN) }));
        Assert.Equal("c", template.Render(new JsonObject { ["x"] = JsonValue.Create('c') }));
        Assert.Equal("Infinity", template.Render(new JsonObject { ["x"] = JsonNode.Parse("1e400") }));
    }

    [Fact]
    public void A_parsed_template_keeps_its_source_and_renders_concurrently()
    {
        const string source = "{% for m in messages %}{{ loop.index }}:{{ m.content }};{% endfor %}";
        var template = ChatTemplate.Parse(source);
        Assert.Equal(source, template.Source);
        var results = new string[64];
        Parallel.For(0, results.Length, i =>
        {
            var messages = new JsonArray([.. Enumerable.Range(0, i % 7).Select(j => (JsonNode)new JsonObject { ["content"] = $"{i}-{j}" })]);
            results[i] = template.Render(new JsonObject { ["messages"] = messages });
        });
        for (var i = 0; i < results.Length; i++)
        {
            Assert.Equal(string.Concat(Enumerable.Range(0, i % 7).Select(j => $"{j + 1}:{i}-{j};")), results[i]);
        }
    }

    [Fact]
    public void Strftime_now_reads_the_options_clock_in_its_local_time()
    {
        var zone = TimeZoneInfo.CreateCustomTimeZone("plus2", TimeSpan.FromHours(2), "plus2", "plus2");
        var options = new ChatTemplateOptions { Clock = new ZonedClock(new DateTimeOffset(2024, 12, 31, 23, 30, 0, TimeSpan.Zero), zone) };
        Assert.Equal("2025-01-01 01:30 Jan January", ChatTemplate.Parse("{{ strftime_now('%Y-%m-%d %H:%M %b %B') }}").Render([], options));
    }

    [Fact]
    public void Defaults_are_as_documented()
    {
        var defaults = ChatTemplateOptions.Default;
        Assert.Same(TimeProvider.System, defaults.Clock);
        Assert.Equal((4 * 1024 * 1024, 10_000_000, 200), (defaults.MaxOutputChars, defaults.MaxSteps, defaults.MaxDepth));
    }

    private sealed class ZonedClock(DateTimeOffset now, TimeZoneInfo zone) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;

        public override TimeZoneInfo LocalTimeZone => zone;
    }
}
