using System.Diagnostics;
using System.Text.Json;
using Sios.Brains.Engines;

namespace Sios.Brains.Tests.Engines;

/// <summary>Schema bombs (issue 11): each refused as a plain ArgumentException naming its keyword, quickly.</summary>
public class JsonSchemaBudgetTests
{
    /// <summary>Schemas that crashed llama.cpp (left recursion) or could never finish (no base case).</summary>
    public static TheoryData<string, string[]> Recursive => new()
    {
        { """{"$defs":{"a":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}""", ["$ref '#/$defs/a'", "left recursion"] },
        { """{"$defs":{"a":{"anyOf":[{"$ref":"#/$defs/a"}]}},"$ref":"#/$defs/a"}""", ["$ref '#/$defs/a'", "anyOf", "left recursion"] },
        { """{"$defs":{"a":{"oneOf":[{"$ref":"#/$defs/a"}]}},"$ref":"#/$defs/a"}""", ["$ref", "oneOf", "left recursion"] },
        { """{"$defs":{"a":{"anyOf":[{"type":"null"},{"$ref":"#/$defs/a"}]}},"$ref":"#/$defs/a"}""", ["$ref", "anyOf", "left recursion"] },
        { """{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}""", ["$ref '#/$defs/a'", "$ref '#/$defs/b'", "left recursion"] },
        { """{"$defs":{"a":{"type":["null","string"],"anyOf":[{"$ref":"#/$defs/b"}]},"b":{"oneOf":[{"$ref":"#/$defs/a"}]}},"$ref":"#/$defs/a"}""", ["$ref", "left recursion"] },
        { """{"$defs":{"n":{"type":"array","items":{"$ref":"#/$defs/n"},"minItems":1}},"$ref":"#/$defs/n"}""", ["$ref '#/$defs/n'", "no base case"] },
        { """{"$defs":{"n":{"type":"object","properties":{"next":{"$ref":"#/$defs/n"}},"required":["next"]}},"$ref":"#/$defs/n"}""", ["$ref '#/$defs/n'", "no base case"] },
    };

    [Theory]
    [MemberData(nameof(Recursive))]
    public void Recursion_without_a_character_first_or_without_a_base_case_is_refused_naming_the_ref(string schema, string[] named) =>
        Refused(schema, named);

    public static TheoryData<string, string> Contradictions => new()
    {
        { """{"type":"string","minLength":5,"maxLength":2}""", "minLength" },
        { """{"type":"array","minItems":5,"maxItems":2}""", "minItems" },
        { """{"type":"object","minProperties":5,"maxProperties":2}""", "minProperties" },
        { """{"type":"number","minimum":5,"maximum":2}""", "minimum" },
        { """{"type":"integer","exclusiveMinimum":2,"maximum":2}""", "exclusiveMinimum" },
        { """{"type":"object","properties":{"a":{"type":"array","items":{"type":"string","minLength":3,"maxLength":1}}}}""", "minLength" },
    };

    [Theory]
    [MemberData(nameof(Contradictions))]
    public void Contradictory_bounds_are_refused_naming_the_keyword(string schema, string keyword) => Refused(schema, [keyword]);

    public static TheoryData<string, string> OverBudget => new()
    {
        { Enum(JsonSchemaLimits.MaxEnumValues + 1), "enum" },
        { Enum(100_000), "enum" },
        { """{"type":"string","maxLength":100000}""", "maxLength" },
        { """{"type":"array","maxItems":257}""", "maxItems" },
        { Nested(JsonSchemaLimits.MaxDepth + 1), "nests deeper" },
        { Strings(90, maxLength: 256), "maxLength" },
        { Consts(JsonSchemaLimits.MaxParallelPaths + 1, "p"), "anyOf" },
        { AmbiguousChain(5), "anyOf" },
        { """{"$defs":{"n":{"anyOf":[{"type":"array","items":{"$ref":"#/$defs/n"}},{"type":"array","items":{"$ref":"#/$defs/n"}}]}},"$ref":"#/$defs/n"}""", "anyOf" },
        { """{"type":"object","properties":{"a":{"type":"string"},"a":{"type":"string"}}}""", "properties name 'a' twice" },
    };

    [Theory]
    [MemberData(nameof(OverBudget))]
    public void Schemas_over_the_budget_are_refused_quickly_naming_the_keyword(string schema, string keyword) => Refused(schema, [keyword]);

    /// <summary>OpenAI's strict mode allows recursion through $ref when something comes first: those still compile.</summary>
    public static TheoryData<string> Guarded => new()
    {
        """{"$defs":{"node":{"type":"object","properties":{"name":{"type":"string"},"children":{"type":"array","items":{"$ref":"#/$defs/node"}}},"required":["name","children"]}},"$ref":"#/$defs/node"}""",
        """{"$defs":{"list":{"anyOf":[{"type":"null"},{"type":"object","properties":{"v":{"type":"integer"},"next":{"$ref":"#/$defs/list"}},"required":["v","next"]}]}},"$ref":"#/$defs/list"}""",
        """{"$defs":{"t":{"anyOf":[{"type":"string"},{"type":"number"},{"type":"array","items":{"$ref":"#/$defs/t"}},{"type":"object","properties":{"k":{"$ref":"#/$defs/t"}}}]}},"$ref":"#/$defs/t"}""",
        """{"$defs":{"a":{"type":"object","properties":{"b":{"$ref":"#/$defs/b"}}},"b":{"type":"array","items":{"$ref":"#/$defs/a"}}},"$ref":"#/$defs/a"}""",
        """{"$defs":{"a":{"allOf":[{"$ref":"#/$defs/a"}]}},"$ref":"#/$defs/a"}""",
    };

    [Theory]
    [MemberData(nameof(Guarded))]
    public void Guarded_recursion_still_compiles(string schema)
    {
        var grammar = JsonSchemaGrammar.FromSchema(schema);
        Assert.Equal(GbnfFault.None, GbnfCheck.Run(grammar, JsonSchemaLimits.MaxExpandedElements, JsonSchemaLimits.MaxParallelPaths).Fault);
    }

    /// <summary>The worst schemas the budget allows, as the engine tests and the measurements in the README use them.</summary>
    public static TheoryData<string, string> WorstAllowed => new()
    {
        { "enum", WorstEnum },
        { "ambiguity", WorstAmbiguity },
        { "size", Strings(80, maxLength: 256) },
        { "depth", Nested(JsonSchemaLimits.MaxDepth) },
        { "properties", Properties(JsonSchemaLimits.MaxParallelPaths - 6) },
    };

    [Theory]
    [MemberData(nameof(WorstAllowed))]
    public void The_worst_allowed_schemas_compile_within_budget_in_well_under_a_second(string label, string schema)
    {
        var clock = Stopwatch.StartNew();
        var grammar = JsonSchemaGrammar.FromSchema(schema);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"{label}: {clock.Elapsed}");
        var report = GbnfCheck.Run(grammar, JsonSchemaLimits.MaxExpandedElements, JsonSchemaLimits.MaxParallelPaths);
        Assert.Equal(GbnfFault.None, report.Fault);
        Assert.True(grammar.Length <= JsonSchemaLimits.MaxGrammarChars, $"{label}: {grammar.Length} characters");
    }

    [Fact]
    public void The_shared_json_grammar_passes_the_check()
    {
        var report = GbnfCheck.Run(JsonGrammar.AnyObject, JsonSchemaLimits.MaxExpandedElements, JsonSchemaLimits.MaxParallelPaths);
        Assert.Equal(GbnfFault.None, report.Fault);
        Assert.InRange(report.Paths, 1, 16);
    }

    [Theory]
    [InlineData("root ::= \"a\" |\n")]
    [InlineData("root ::= ( )\n")]
    [InlineData("root ::= missing\n")]
    [InlineData("root ::= \"a\"{5,2}\n")]
    [InlineData("root ::= \"a\"{0}\n")]
    [InlineData("root ::= \"a\"{0,3000}\n")]
    [InlineData("root ::= ( \"a\"? )*\n")]
    [InlineData("root ::= \"a\"\nroot ::= \"b\"\n")]
    [InlineData("root ::= [^]\n")]
    [InlineData("root ::= \"\\q\"\n")]
    [InlineData("other ::= \"a\"\n")]
    public void Grammars_llama_cpp_would_refuse_never_reach_it(string gbnf) =>
        Assert.Throws<InvalidOperationException>(() => GbnfCheck.Run(gbnf, JsonSchemaLimits.MaxExpandedElements, JsonSchemaLimits.MaxParallelPaths));

    [Theory]
    [InlineData("root ::= root \"a\" | \"b\"\n", "LeftRecursion")]
    [InlineData("root ::= x\nx ::= \"\"? root\n", "LeftRecursion")]
    [InlineData("root ::= \"[\" root \"]\"\n", "NoBaseCase")]
    [InlineData("root ::= \"a\"{2000}\n", "TooLarge")]
    [InlineData("root ::= \"[\" ( root | root ) \"]\" | \"x\"\n", "TooManyPaths")]
    public void Runnable_but_unbounded_grammars_are_faults(string gbnf, string fault) =>
        Assert.Equal(fault, GbnfCheck.Run(gbnf, 1000, JsonSchemaLimits.MaxParallelPaths).Fault.ToString());

    [Fact]
    public void Alternatives_that_begin_alike_count_as_parallel_paths_and_enum_values_share_their_prefixes()
    {
        static long Paths(string schema) =>
            GbnfCheck.Run(JsonSchemaGrammar.FromSchema(schema), JsonSchemaLimits.MaxExpandedElements, JsonSchemaLimits.MaxParallelPaths).Paths;

        Assert.InRange(Paths(WorstEnum), 1, 16);
        Assert.InRange(Paths(Consts(200, "p")), 200, 210);
        Assert.InRange(Paths(Consts(200, "")), 200, 210);
        Assert.InRange(Paths("""{"anyOf":[{"const":"a"},{"const":"b"},{"type":"object"},{"type":"number"}]}"""), 4, 16);
        Assert.InRange(Paths("""{"type":"array","items":""" + Consts(200, "p") + "}"), 200, 210);
        Assert.InRange(Paths(Properties(200)), 200, 210);
    }

    internal static string WorstEnum => Enum(JsonSchemaLimits.MaxEnumValues, new string('p', 100));

    /// <summary>As many alternatives as allowed, all beginning alike: every one followed in parallel for 100 characters.</summary>
    internal static string WorstAmbiguity => Consts(JsonSchemaLimits.MaxParallelPaths, new string('p', 100));

    /// <summary>anyOf over <paramref name="count"/> string consts that begin with <paramref name="prefix"/>.</summary>
    internal static string Consts(int count, string prefix) =>
        JsonSerializer.Serialize(new { anyOf = Enumerable.Range(0, count).Select(i => new { @const = prefix + i.ToString(System.Globalization.CultureInfo.InvariantCulture) }) });

    internal static string Enum(int count, string prefix = "v") =>
        JsonSerializer.Serialize(new { @enum = Enumerable.Range(0, count).Select(i => prefix + i.ToString(System.Globalization.CultureInfo.InvariantCulture)) });

    private static string Nested(int depth) =>
        string.Concat(Enumerable.Repeat("""{"type":"array","items":""", depth)) + """{"type":"string"}""" + new string('}', depth);

    private static string Strings(int count, int maxLength) => JsonSerializer.Serialize(new
    {
        type = "object",
        properties = Enumerable.Range(0, count).ToDictionary(i => "p" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), _ => new { type = "string", maxLength }),
    });

    private static string Properties(int count) => JsonSerializer.Serialize(new
    {
        type = "object",
        properties = Enumerable.Range(0, count).ToDictionary(i => "p" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), _ => new { type = "integer" }),
    });

    /// <summary>Each definition is four alike arrays of the one before: the alternatives to follow grow fourfold with every level.</summary>
    private static string AmbiguousChain(int levels)
    {
        var defs = new Dictionary<string, object> { ["d0"] = new { type = "string" } };
        for (var i = 1; i <= levels; i++)
        {
            var items = new Dictionary<string, string> { ["$ref"] = $"#/$defs/d{i - 1}" };
            defs[$"d{i}"] = new { anyOf = Enumerable.Repeat(new { type = "array", items }, 4).ToArray() };
        }

        return JsonSerializer.Serialize(new Dictionary<string, object> { ["$defs"] = defs, ["$ref"] = $"#/$defs/d{levels}" });
    }

    private static void Refused(string schema, string[] named)
    {
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<ArgumentException>(() => JsonSchemaGrammar.FromSchema(schema));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"refusing took {clock.Elapsed}");
        foreach (var word in named)
        {
            Assert.Contains(word, e.Message, StringComparison.Ordinal);
        }
    }
}
