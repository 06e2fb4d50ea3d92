using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Sios.Brains.Engines;

/// <summary>
/// Turns a JSON Schema into a GBNF grammar, so <c>response_format: json_schema</c> is enforced token by token.
/// Supported: <c>type</c> (one or a list), <c>properties</c>/<c>required</c> (properties in declared order; an object
/// with properties admits no others), <c>items</c> with <c>minItems</c>/<c>maxItems</c>, <c>minLength</c>/<c>maxLength</c>,
/// <c>enum</c>, <c>const</c>, <c>anyOf</c>/<c>oneOf</c>, and local <c>$ref</c> to <c>#/$defs/…</c> or <c>#/definitions/…</c>.
/// Anything else (<c>pattern</c>, <c>format</c>, numeric ranges, <c>allOf</c>, …) is not enforced: that part of the
/// answer is constrained to valid JSON of the stated type only.
/// </summary>
public static class JsonSchemaGrammar
{
    private const int MaxRules = 2000;
    private const int MaxDepth = 64;
    private const int MaxBoundedRepeat = 256;

    // Escape only what JSON requires, so a literal like "a\"b" is generated as written rather than as "a\u0022b".
    private static readonly JsonSerializerOptions s_literalJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The GBNF grammar (root rule <c>root</c>) for <paramref name="schema"/>.</summary>
    /// <exception cref="ArgumentException">The schema is not JSON, is <c>false</c>, or is too large.</exception>
    public static string FromSchema(string schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(schema, new JsonDocumentOptions { MaxDepth = MaxDepth * 2 });
        }
        catch (JsonException e)
        {
            throw new ArgumentException("The response_format JSON schema is not valid JSON: " + e.Message, nameof(schema), e);
        }

        using (document)
        {
            if (JsonEscapes.FirstUndecodableString(Encoding.UTF8.GetBytes(schema), MaxDepth * 2) is { } at)
            {
                throw new ArgumentException($"The response_format JSON schema has a string with an invalid \\u escape (a lone UTF-16 surrogate) at byte {at}.", nameof(schema));
            }

            var builder = new Builder(document.RootElement);
            var root = builder.Rule(document.RootElement, 0);
            return builder.Render(root);
        }
    }

    private sealed class Builder(JsonElement document)
    {
        private readonly List<(string Name, string Body)> _rules = [];
        private readonly Dictionary<string, string> _refs = new(StringComparer.Ordinal);

        public string Render(string root)
        {
            var text = new StringBuilder();
            text.Append("root ::= ").Append(root).Append('\n');
            foreach (var (name, body) in _rules)
            {
                text.Append(name).Append(" ::= ").Append(body).Append('\n');
            }

            return text.Append(JsonGrammar.ValueRules).Append('\n').ToString();
        }

        /// <summary>A GBNF expression matching <paramref name="schema"/>.</summary>
        public string Rule(JsonElement schema, int depth)
        {
            if (depth > MaxDepth)
            {
                throw new ArgumentException($"The JSON schema nests deeper than {MaxDepth} levels.");
            }

            if (schema.ValueKind == JsonValueKind.True)
            {
                return "value";
            }

            if (schema.ValueKind == JsonValueKind.False)
            {
                throw new ArgumentException("The JSON schema is 'false': no answer could satisfy it.");
            }

            if (schema.ValueKind != JsonValueKind.Object)
            {
                throw new ArgumentException($"A JSON schema must be an object or a boolean, not {schema.ValueKind}.");
            }

            if (schema.TryGetProperty("$ref", out var reference))
            {
                return Reference(Text(reference) ?? throw new ArgumentException("The JSON schema $ref must be a string."), depth);
            }

            if (schema.TryGetProperty("const", out var constant))
            {
                return Literal(constant.GetRawText(), canonical: true);
            }

            if (schema.TryGetProperty("enum", out var values) && values.ValueKind == JsonValueKind.Array && values.GetArrayLength() > 0)
            {
                return Add("( " + string.Join(" | ", values.EnumerateArray().Select(v => Literal(v.GetRawText(), canonical: true))) + " )");
            }

            foreach (var keyword in (string[])["anyOf", "oneOf"])
            {
                if (schema.TryGetProperty(keyword, out var options) && options.ValueKind == JsonValueKind.Array && options.GetArrayLength() > 0)
                {
                    return Add("( " + string.Join(" | ", options.EnumerateArray().Select(o => Rule(o, depth + 1))) + " )");
                }
            }

            if (schema.TryGetProperty("type", out var type))
            {
                if (type.ValueKind == JsonValueKind.Array)
                {
                    var alternatives = type.EnumerateArray().Select(t => Typed(Text(t), schema, depth)).Distinct().ToArray();
                    return alternatives.Length == 0 ? "value" : Add("( " + string.Join(" | ", alternatives) + " )");
                }

                return Typed(Text(type), schema, depth);
            }

            if (schema.TryGetProperty("properties", out _))
            {
                return Typed("object", schema, depth);
            }

            return schema.TryGetProperty("items", out _) ? Typed("array", schema, depth) : "value";
        }

        /// <summary>The element's text, or null when it is not a string (a schema keyword of the wrong kind).</summary>
        private static string? Text(JsonElement element) => element.ValueKind == JsonValueKind.String ? element.GetString() : null;

        private string Typed(string? type, JsonElement schema, int depth) => type switch
        {
            "string" => StringRule(schema),
            "number" => "number",
            "integer" => "integer",
            "boolean" => Add("( \"true\" | \"false\" )"),
            "null" => "\"null\"",
            "object" => ObjectRule(schema, depth),
            "array" => ArrayRule(schema, depth),
            _ => throw new ArgumentException($"The JSON schema has the unknown type '{type}'."),
        };

        private string StringRule(JsonElement schema)
        {
            var min = Bound(schema, "minLength") ?? 0;
            var max = Bound(schema, "maxLength");
            if (min == 0 && max is null)
            {
                return "string";
            }

            return Add("\"\\\"\" " + Repeat("char", min, max) + " \"\\\"\"");
        }

        private string ObjectRule(JsonElement schema, int depth)
        {
            if (!schema.TryGetProperty("properties", out var properties) || properties.ValueKind != JsonValueKind.Object)
            {
                return "object";
            }

            var required = schema.TryGetProperty("required", out var r) && r.ValueKind == JsonValueKind.Array
                ? r.EnumerateArray().Select(Text).OfType<string>().ToHashSet(StringComparer.Ordinal)
                : [];
            var members = properties.EnumerateObject()
                .Select(p => (Required: required.Contains(p.Name),
                    Rule: Add(Literal(JsonSerializer.Serialize(p.Name, s_literalJson), canonical: false) + " \":\" ws " + Rule(p.Value, depth + 1) + " ws")))
                .ToList();
            var mandatory = members.Where(m => m.Required).Select(m => m.Rule).ToList();
            var optional = members.Where(m => !m.Required).Select(m => m.Rule).ToList();

            // Optional members keep their declared order. rest[i] is "any of the optional members from i on, each
            // after a comma"; with no mandatory member the first optional member present opens the list instead.
            var rest = new string[optional.Count + 1];
            rest[optional.Count] = "";
            for (var i = optional.Count - 1; i >= 0; i--)
            {
                rest[i] = Add(("( \",\" ws " + optional[i] + " )? " + rest[i + 1]).Trim());
            }

            string body;
            if (mandatory.Count > 0)
            {
                body = (string.Join(" \",\" ws ", mandatory) + " " + rest[0]).Trim();
            }
            else
            {
                var first = "";
                for (var i = optional.Count - 1; i >= 0; i--)
                {
                    var opener = (optional[i] + " " + rest[i + 1]).Trim();
                    first = Add("( " + opener + (first.Length == 0 ? "" : " | " + first) + " )");
                }

                body = first.Length == 0 ? "" : "( " + first + " )?";
            }

            return Add("\"{\" ws " + body + " \"}\"");
        }

        private string ArrayRule(JsonElement schema, int depth)
        {
            var item = schema.TryGetProperty("items", out var items) && items.ValueKind is JsonValueKind.Object or JsonValueKind.True or JsonValueKind.False
                ? Rule(items, depth + 1)
                : "value";
            var min = Bound(schema, "minItems") ?? 0;
            var max = Bound(schema, "maxItems");
            if (max == 0)
            {
                return Add("\"[\" ws \"]\"");
            }

            var element = Add(item + " ws");
            var next = Add("\",\" ws " + element);
            var more = Repeat(next, Math.Max(0, min - 1), max - 1);
            var list = element + " " + more;
            return Add("\"[\" ws " + (min == 0 ? "( " + list + " )?" : list) + " \"]\"");
        }

        private string Reference(string target, int depth)
        {
            if (_refs.TryGetValue(target, out var existing))
            {
                return existing;
            }

            var path = target.StartsWith("#/$defs/", StringComparison.Ordinal) ? ("$defs", target[8..])
                : target.StartsWith("#/definitions/", StringComparison.Ordinal) ? ("definitions", target[14..])
                : throw new ArgumentException($"The JSON schema $ref '{target}' is not a local #/$defs/ or #/definitions/ reference.");
            if (!document.TryGetProperty(path.Item1, out var defs) || !defs.TryGetProperty(path.Item2, out var definition))
            {
                throw new ArgumentException($"The JSON schema $ref '{target}' points nowhere.");
            }

            // Name the rule before expanding it, so recursive schemas refer back to it instead of recursing forever.
            var name = NewName();
            _refs[target] = name;
            var index = _rules.Count;
            _rules.Add((name, "value"));
            _rules[index] = (name, Rule(definition, depth + 1));
            return name;
        }

        private static string Repeat(string rule, int min, int? max)
        {
            if (max is null)
            {
                return min == 0 ? rule + "*" : $"{rule}{{{min},}}";
            }

            return min == max ? $"{rule}{{{min}}}" : $"{rule}{{{min},{max}}}";
        }

        private static int? Bound(JsonElement schema, string keyword)
        {
            if (!schema.TryGetProperty(keyword, out var value))
            {
                return null;
            }

            return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) && n is >= 0 and <= MaxBoundedRepeat
                ? n
                : throw new ArgumentException($"The JSON schema's {keyword} must be an integer from 0 to {MaxBoundedRepeat}.");
        }

        private string Add(string body)
        {
            var name = NewName();
            _rules.Add((name, body));
            return name;
        }

        private string NewName()
        {
            if (_rules.Count >= MaxRules)
            {
                throw new ArgumentException($"The JSON schema needs more than {MaxRules} grammar rules.");
            }

            return "s" + (_rules.Count + 1).ToString(CultureInfo.InvariantCulture);
        }

        /// <summary>A GBNF literal for JSON text; <paramref name="canonical"/> re-serialises it without whitespace first.</summary>
        private static string Literal(string json, bool canonical)
        {
            if (canonical)
            {
                using var parsed = JsonDocument.Parse(json);
                json = JsonSerializer.Serialize(parsed.RootElement, s_literalJson);
            }

            var text = new StringBuilder("\"");
            foreach (var c in json)
            {
                switch (c)
                {
                    case '"': text.Append("\\\""); break;
                    case '\\': text.Append("\\\\"); break;
                    case < ' ': text.Append("\\x").Append(((int)c).ToString("X2", CultureInfo.InvariantCulture)); break;
                    default: text.Append(c); break;
                }
            }

            return text.Append('"').ToString();
        }
    }
}
