using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Sios.Templates.Tests;

/// <summary>Hostile templates end with a <see cref="ChatTemplateException"/> within seconds: never a hang or a crash.</summary>
public sealed class LimitTests
{
    // Generous, for a loaded 2-core machine: the slowest cases spend their whole 10 million steps, a few seconds.
    private static readonly TimeSpan Watchdog = TimeSpan.FromSeconds(60);

    private static ChatTemplateException Refused(string template, ChatTemplateOptions? options = null, JsonObject? variables = null)
    {
        ChatTemplateException? refusal = null;
        var clock = Stopwatch.StartNew();

        // A thread of our own with the default 1.5 MiB stack keeps the stack guards honest whatever the runner uses.
        var worker = new Thread(() =>
        {
            try
            {
                ChatTemplate.Parse(template).Render(variables ?? [], options);
            }
            catch (ChatTemplateException e)
            {
                refusal = e;
            }
        }, 1536 * 1024);
        worker.Start();
        Assert.True(worker.Join(Watchdog), $"still running after {Watchdog.TotalSeconds} s");
        Assert.True(refusal is not null, "the template rendered instead of being refused");
        Assert.True(clock.Elapsed < Watchdog);
        return refusal!;
    }

    [Fact]
    public void Infinite_macro_recursion_stops_at_the_depth_limit()
    {
        var e = Refused("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
        Assert.Equal("limit 'depth'", e.Construct);
    }

    [Fact]
    public void A_deeper_limit_than_the_stack_allows_still_ends_in_an_exception()
    {
        var e = Refused("{% macro f(n) %}{% if true %}{% for x in [1] %}{{ f(n + 1) }}{% endfor %}{% endif %}{% endmacro %}{{ f(0) }}",
            new ChatTemplateOptions { MaxDepth = int.MaxValue });
        Assert.Equal("nesting", e.Construct);
    }

    [Fact]
    public void Exponential_macro_recursion_stops_at_the_step_limit()
    {
        var template = "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60) }}";
        Assert.Equal("limit 'steps'", Refused(template, new ChatTemplateOptions { MaxSteps = 200_000 }).Construct);
        Assert.Equal("limit 'steps'", Refused(template).Construct);
    }

    [Theory]
    [InlineData("{% for i in range(10**9) %}{% endfor %}")]
    [InlineData("{{ range(10**9)|length }}")]
    [InlineData("{% for i in range(1, 1/0) %}{% endfor %}")]
    [InlineData("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")]
    public void Huge_loops_stop_at_the_step_limit(string template) => Assert.Equal("limit 'steps'", Refused(template).Construct);

    [Theory]
    [InlineData("{% for i in range(2000000) %}0123456789{% endfor %}")]
    [InlineData("{% set x = 'ab' %}{% for i in range(40) %}{% set x = x ~ x %}{% endfor %}{{ x|length }}")]
    [InlineData("{% set s = 'abcdefghij' %}{% for i in range(8) %}{% set s = s.replace('', s) %}{% endfor %}")]
    [InlineData("{% set ns = namespace(x=[1]) %}{% for i in range(60) %}{% set ns.x = [ns.x, ns.x] %}{% endfor %}{{ ns.x|tojson }}")]
    [InlineData("{% set ns = namespace(x=[1]) %}{% for i in range(60) %}{% set ns.x = [ns.x, ns.x] %}{% endfor %}{{ ns.x }}")]
    [InlineData("{% set ns = namespace(x=[1]) %}{% for i in range(60) %}{% set ns.x = [ns.x, ns.x] %}{% endfor %}{{ ns.x ~ '' }}")]
    [InlineData("{{ [[1]]|tojson(indent=100000000) }}")]
    [InlineData("{{ 'a\nb'|indent(100000000) }}")]
    [InlineData("{% set s %}{% for i in range(2000000) %}xyz{% endfor %}{% endset %}")]
    public void Output_is_capped(string template) => Assert.Equal("limit 'output'", Refused(template).Construct);

    [Theory]
    [InlineData("{% set x = [1] %}{% for i in range(40) %}{% set x = x + x %}{% endfor %}{{ x|length }}")]
    [InlineData("{{ 'b' in ns.x }}")]
    [InlineData("{{ ns.x is lower }}")]
    [InlineData("{{ ns.x == 'y' }}")]
    [InlineData("{{ ns.x.split('b')|length }}")]
    [InlineData("{% set y = ns.x|upper %}")]
    [InlineData("{% set y = ns.x.replace('a', 'c') %}")]
    [InlineData("{% set y = ns.x ~ 'c' %}")]
    [InlineData("{% set y = ns.x[1:] %}")]
    [InlineData("{% set y = ns.x[::-1] %}")]
    [InlineData("{% set y = ns.x|join(',') %}")]
    [InlineData("{% set l = range(1000000) %}{% for i in range(100000) %}{{ l|join|length }}{% endfor %}")]
    public void Runaway_work_stops_at_a_limit(string work)
    {
        // Work over a 2 Mi-character string, 100,000 times: few steps, much work, unless the work is charged.
        var template = work.StartsWith("{% set x", StringComparison.Ordinal) || work.StartsWith("{% set l", StringComparison.Ordinal)
            ? work
            : "{% set ns = namespace(x='ab') %}{% for i in range(20) %}{% set ns.x = ns.x ~ ns.x %}{% endfor %}{% for i in range(100000) %}" + work + "{% endfor %}";
        Assert.StartsWith("limit '", Refused(template).Construct, StringComparison.Ordinal);
    }

    [Fact]
    public void A_small_output_cap_is_honoured()
    {
        var e = Refused("{% for i in range(100) %}0123456789{% endfor %}", new ChatTemplateOptions { MaxOutputChars = 500 });
        Assert.Equal("limit 'output'", e.Construct);
    }

    [Fact]
    public void Deeply_nested_data_built_by_the_template_cannot_overflow_the_stack()
    {
        var e = Refused("{% set ns = namespace(x=[]) %}{% for i in range(200000) %}{% set ns.x = [ns.x] %}{% endfor %}{{ ns.x }}");
        Assert.Equal("nesting", e.Construct);
    }

    [Fact]
    public void Deeply_nested_variables_cannot_overflow_the_stack()
    {
        JsonNode deep = new JsonArray();
        for (var i = 0; i < 100_000; i++)
        {
            deep = new JsonArray(deep);
        }

        var e = Refused("{{ x }}", variables: new JsonObject { ["x"] = deep });
        Assert.Equal("variables", e.Construct);
    }

    [Theory]
    [InlineData("(", ")")]
    [InlineData("[", "]")]
    [InlineData("{'a': ", "}")]
    [InlineData("not ", "")]
    [InlineData("-", "")]
    [InlineData("f(", ")")]
    [InlineData("1 if x else ", "")]
    public void Deeply_nested_expressions_fail_to_parse(string open, string close)
    {
        var source = "{{ " + string.Concat(Enumerable.Repeat(open, 100_000)) + "1" + string.Concat(Enumerable.Repeat(close, 100_000)) + " }}";
        var e = Assert.Throws<ChatTemplateException>(() => ChatTemplate.Parse(source));
        Assert.Equal("nesting", e.Construct);
    }

    [Fact]
    public void Deeply_nested_statements_fail_to_parse()
    {
        var source = string.Concat(Enumerable.Repeat("{% if true %}", 10_000)) + "x" + string.Concat(Enumerable.Repeat("{% endif %}", 10_000));
        var e = Assert.Throws<ChatTemplateException>(() => ChatTemplate.Parse(source));
        Assert.Equal("nesting", e.Construct);
    }

    [Fact]
    public void Moderate_nesting_parses()
    {
        var source = string.Concat(Enumerable.Repeat("{% if true %}(", 50)) +
                     "{{ " + string.Concat(Enumerable.Repeat("(", 100)) + "1" + string.Concat(Enumerable.Repeat(")", 100)) + " }}" +
                     string.Concat(Enumerable.Repeat("){% endif %}", 50));
        Assert.Equal(string.Concat(Enumerable.Repeat("(", 50)) + "1" + string.Concat(Enumerable.Repeat(")", 50)), ChatTemplate.Parse(source).Render([]));
    }
}
