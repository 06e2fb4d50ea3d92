using System.Text.Json;
using Sios.Brains.Engines;

namespace Sios.Brains.Tests.Engines;

public class JsonSchemaGrammarTests
{
    [Fact]
    public void Required_properties_come_in_order_and_optional_ones_may_follow()
    {
        var g = JsonSchemaGrammar.FromSchema("""{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"boolean"}},"required":["a"]}""");
        Assert.StartsWith("root ::= ", g, StringComparison.Ordinal);
        Assert.Contains("\"\\\"a\\\"\" \":\" ws integer ws", g, StringComparison.Ordinal);
        Assert.Contains("( \",\" ws s", g, StringComparison.Ordinal);
        Assert.Contains(JsonGrammar.ValueRules, g, StringComparison.Ordinal);
    }

    [Fact]
    public void Literals_are_escaped_for_gbnf()
    {
        var g = JsonSchemaGrammar.FromSchema("""{"enum":["q\"uote", "back\\slash", "line\nfeed"]}""");
        Assert.Contains("\"q\\\\\\\"uote\\\"\"", g, StringComparison.Ordinal);
        Assert.Contains("\"back\\\\\\\\slash\\\"\"", g, StringComparison.Ordinal);
        Assert.DoesNotContain("\n feed", g, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("false")]
    [InlineData("42")]
    [InlineData("""{"type":"decimal"}""")]
    [InlineData("""{"$ref":"https://example.com/schema"}""")]
    [InlineData("""{"$ref":"#/$defs/missing"}""")]
    [InlineData("""{"type":"array","maxItems":100000}""")]
    public void Unusable_schemas_are_argument_errors(string schema) =>
        Assert.ThrowsAny<ArgumentException>(() => JsonSchemaGrammar.FromSchema(schema));

    /// <summary>Found by fuzz/run (AFL++): keywords of the wrong kind and lone-surrogate escapes threw InvalidOperationException.</summary>
    [Theory]
    [InlineData("""{"$ref":false}""")]
    [InlineData("""{"$ref":["a"]}""")]
    [InlineData("""{"type":{"enum":["a"]}}""")]
    [InlineData("""{"type":["string",1]}""")]
    [InlineData("""{"mod\ud800el":true}""")]
    [InlineData("""{"type":"object","properties":{"a\udc00":{"type":"string"}}}""")]
    [InlineData("""{"const":"\ud800"}""")]
    [InlineData("""{"type":"string","maxLength":"8"}""")]
    [InlineData("""{"type":"array","minItems":null}""")]
    public void Malformed_keywords_are_plain_argument_errors_naming_the_problem(string schema) =>
        Assert.Throws<ArgumentException>(() => JsonSchemaGrammar.FromSchema(schema));

    [Fact]
    public void Non_string_required_names_are_ignored_like_unknown_ones()
    {
        var grammar = JsonSchemaGrammar.FromSchema("""{"type":"object","properties":{"a":{"type":"integer"}},"required":[1,"a"]}""");
        Assert.Equal(JsonSchemaGrammar.FromSchema("""{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]}"""), grammar);
    }

    public static TheoryData<string, string> Schemas() => new()
    {
        { """{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string","maxLength":3},"c":{"const":{"x":[1,2]}}}}""", "optional-only" },
        { """{"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer"},"kids":{"type":"array","items":{"$ref":"#/$defs/node"},"maxItems":1}},"required":["v","kids"]}},"$ref":"#/$defs/node"}""", "recursive" },
        { """{"anyOf":[{"type":"null"},{"type":"array","items":{"type":"number"},"minItems":2,"maxItems":3}]}""", "any-of" },
        { """{"type":"string","minLength":2,"maxLength":5}""", "string" },
        { """{"type":"array","items":{"enum":[1,"two",null,true]},"minItems":1}""", "enum-array" },
        { """{"type":"array","items":{"type":"integer","minimum":-37,"exclusiveMaximum":1205},"minItems":4,"maxItems":4}""", "bounded-integers" },
    };

    [Theory]
    [MemberData(nameof(Schemas))]
    public void Grammar_text_is_deterministic(string schema, string label)
    {
        Assert.False(string.IsNullOrEmpty(label));
        Assert.Equal(JsonSchemaGrammar.FromSchema(schema), JsonSchemaGrammar.FromSchema(schema));
    }

    internal static void CheckConforms(string label, JsonElement e)
    {
        switch (label)
        {
            case "optional-only":
                Assert.Equal(JsonValueKind.Object, e.ValueKind);
                Assert.All(e.EnumerateObject(), p => Assert.Contains(p.Name, new[] { "a", "b", "c" }));
                break;
            case "recursive":
                Assert.True(e.GetProperty("v").TryGetInt64(out _));
                Assert.All(e.GetProperty("kids").EnumerateArray(), k => CheckConforms(label, k));
                break;
            case "any-of":
                Assert.True(e.ValueKind == JsonValueKind.Null || e.GetArrayLength() is >= 2 and <= 3);
                break;
            case "string":
                Assert.Equal(JsonValueKind.String, e.ValueKind);
                break;
            case "bounded-integers":
                Assert.All(e.EnumerateArray(), v => Assert.InRange(v.GetInt64(), -37, 1204));
                break;
            case "enum-array":
                Assert.True(e.GetArrayLength() >= 1);
                Assert.All(e.EnumerateArray(), v => Assert.Contains(v.GetRawText(), new[] { "1", "\"two\"", "null", "true" }));
                break;
            default:
                Assert.Fail("unknown schema " + label);
                break;
        }
    }
}

[Collection(LlamaTestGroup.Name)]
public sealed class JsonSchemaGenerationTests(LlamaFixture fx)
{
    [Theory]
    [MemberData(nameof(JsonSchemaGrammarTests.Schemas), MemberType = typeof(JsonSchemaGrammarTests))]
    public async Task Generated_json_conforms_to_the_schema(string schema, string label)
    {
        await using var engine = fx.Model.CreateEngine(LlamaFixture.Options);
        foreach (var seed in new uint[] { 1, 2, 3 })
        {
            var request = LlamaFixture.Request(maxTokens: 300, seed: seed, temperature: 1f) with { ResponseFormat = ResponseFormat.JsonSchema(schema) };
            var (text, final, _) = await LlamaFixture.RunAsync(engine, request);

            Assert.Equal(FinishReason.Stop, final.FinishReason);
            using var doc = JsonDocument.Parse(text);
            JsonSchemaGrammarTests.CheckConforms(label, doc.RootElement);
        }
    }
}
