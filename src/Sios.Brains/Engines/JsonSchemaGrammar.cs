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
/// answer is constrained to valid JSON of the stated type only. Contradictory bounds, recursion with no base case or
/// without a character before it, and schemas over <see cref="JsonSchemaLimits"/> are refused.
/// </summary>
public static class JsonSchemaGrammar
{
    /// <summary>How deep the schema document itself may nest (a <c>const</c> value counts), for the JSON reader.</summary>
    private const int DocumentDepth = 128;

    /// <summary>Keywords whose alternatives add up in llama.cpp's parse: named first when a schema is too ambiguous.</summary>
    private static readonly string[] s_alternatives = ["enum", "anyOf", "oneOf", "type"];

    // Escape only what JSON requires, so a literal like "a\"b" is generated as written rather than as "a\u0022b".
    private static readonly JsonSerializerOptions s_literalJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The GBNF grammar (root rule <c>root</c>) for <paramref name="schema"/>.</summary>
    /// <exception cref="ArgumentException">
    /// The schema is not JSON, is <c>false</c>, contradicts itself, recurses without a base case or before any character,
    /// or is over a <see cref="JsonSchemaLimits"/> budget; the message names the keyword.
    /// </exception>
    public static string FromSchema(string schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(schema, new JsonDocumentOptions { MaxDepth = DocumentDepth });
        }
        catch (JsonException e)
        {
            throw new ArgumentException("The response_format JSON schema is not valid JSON: " + e.Message, nameof(schema), e);
        }

        using (document)
        {
            if (JsonEscapes.FirstUndecodableString(Encoding.UTF8.GetBytes(schema), DocumentDepth) is { } at)
            {
                throw new ArgumentException($"The response_format JSON schema has a string with an invalid \\u escape (a lone UTF-16 surrogate) at byte {at}.", nameof(schema));
            }

            var builder = new Builder(document.RootElement, "s", []);
            var root = builder.Rule(document.RootElement, 0);
            return builder.Checked(builder.Render("root ::= " + root + "\n"));
        }
    }

    /// <summary>
    /// One grammar over several schemas (the arguments of each offered tool): each is compiled under its own rule names,
    /// <paramref name="root"/> gets each schema's rule and returns the body of the grammar's <c>root</c> rule, and
    /// <paramref name="rules"/> (more GBNF rules, one per line) are added as written. The whole is held to the same
    /// limits as one schema.
    /// </summary>
    /// <exception cref="ArgumentException">A schema is refused as by <see cref="FromSchema"/>; the message starts with its position.</exception>
    public static string Compose(IReadOnlyList<string> schemas, Func<IReadOnlyList<string>, string> root, string rules = "")
    {
        ArgumentNullException.ThrowIfNull(schemas);
        ArgumentNullException.ThrowIfNull(root);
        var origins = new Dictionary<string, string>(StringComparer.Ordinal);
        var builders = new List<Builder>(schemas.Count);
        var tops = new List<string>(schemas.Count);
        long alone = 0;
        for (var i = 0; i < schemas.Count; i++)
        {
            try
            {
                // Each schema is first held to the limits alone, so a refusal names the schema it is about; and all of
                // them to one schema's budget in all, so many tools cannot cost many times the work one may.
                alone += FromSchema(schemas[i]).Length - JsonGrammar.ValueRules.Length;
                if (alone > JsonSchemaLimits.MaxGrammarChars)
                {
                    throw new ArgumentException(
                        $"The JSON schemas up to this one compile to more than {JsonSchemaLimits.MaxGrammarChars} characters of grammar in all; offer fewer or simpler tools.");
                }

                using var document = JsonDocument.Parse(schemas[i], new JsonDocumentOptions { MaxDepth = DocumentDepth });

                // The rules keep no reference to the document once built, so it can go before the next schema is read.
                var builder = new Builder(document.RootElement.Clone(), "t" + i.ToString(CultureInfo.InvariantCulture) + "s", origins);
                tops.Add(builder.Rule(builder.Document, 0));
                builders.Add(builder);
            }
            catch (Exception e) when (e is JsonException or ArgumentException)
            {
                throw new ArgumentException($"schema {i}: {e.Message}", e);
            }
        }

        var text = new StringBuilder("root ::= ").Append(root(tops)).Append('\n').Append(rules);
        if (rules.Length > 0 && rules[^1] != '\n')
        {
            text.Append('\n');
        }

        var first = builders.FirstOrDefault() ?? new Builder(default, "s", origins);
        foreach (var builder in builders)
        {
            builder.AppendRules(text);
        }

        return first.Checked(text.Append(JsonGrammar.ValueRules).Append('\n').ToString());
    }

    private sealed class Builder(JsonElement document, string prefix, Dictionary<string, string> origins)
    {
        private readonly List<(string Name, string Body)> _rules = [];
        private readonly Dictionary<string, string> _refs = new(StringComparer.Ordinal);

        // The schema keyword each rule was made for, to name it when the grammar as a whole is refused.
        private readonly Dictionary<string, string> _origins = origins;

        public JsonElement Document => document;

        public string Render(string rootRule)
        {
            var text = new StringBuilder(rootRule);
            AppendRules(text);
            return text.Append(JsonGrammar.ValueRules).Append('\n').ToString();
        }

        public void AppendRules(StringBuilder text)
        {
            foreach (var (name, body) in _rules)
            {
                text.Append(name).Append(" ::= ").Append(body).Append('\n');
            }
        }

        /// <summary><paramref name="grammar"/>, once it is known to be within budget and runnable by llama.cpp.</summary>
        public string Checked(string grammar)
        {
            if (grammar.Length > JsonSchemaLimits.MaxGrammarChars)
            {
                throw new ArgumentException($"The JSON schema compiles to a grammar of {grammar.Length} characters (limit {JsonSchemaLimits.MaxGrammarChars}): " +
                    "it has too many properties, enum values or long const values.");
            }

            var report = GbnfCheck.Run(grammar, JsonSchemaLimits.MaxExpandedElements, JsonSchemaLimits.MaxParallelPaths);
            return report.Fault switch
            {
                GbnfFault.None => grammar,
                GbnfFault.LeftRecursion => throw new ArgumentException(
                    $"The JSON schema recurses before producing any character (left recursion) through {Describe(report.Rules)}; " +
                    "llama.cpp cannot run such a grammar. A recursive $ref must be reached inside an object's properties or an array's items."),
                GbnfFault.NoBaseCase => throw new ArgumentException(
                    $"The JSON schema has no finite answer: {Describe(report.Rules)} recurses with no base case, so every answer would nest " +
                    "forever. Make the recursive $ref optional, one of several anyOf alternatives, or the items of an array that may be empty."),
                GbnfFault.TooLarge => throw new ArgumentException(
                    $"The JSON schema compiles to {report.Elements} grammar elements once maxLength/maxItems repetitions are expanded " +
                    $"(limit {JsonSchemaLimits.MaxExpandedElements}); lower the bounds or simplify the schema."),
                _ => throw new ArgumentException(
                    $"The JSON schema is too ambiguous to enforce: at {Describe(Blamed(report.Rules))} more than {JsonSchemaLimits.MaxParallelPaths} " +
                    "alternatives could be followed at once. Alternatives of enum, anyOf, oneOf or a type list that begin alike add up, and a " +
                    "recursive $ref reached through such alternatives multiplies without end; make alternatives differ in their first characters, or use fewer."),
            };
        }

        /// <summary>The rule to name for too much ambiguity: the first made for an alternation keyword, else the first with an origin.</summary>
        private IEnumerable<string> Blamed(IReadOnlyList<string> rules) =>
            rules.Where(r => _origins.TryGetValue(r, out var o) && s_alternatives.Contains(o)).Take(1).DefaultIfEmpty(rules.FirstOrDefault(_origins.ContainsKey) ?? "root");

        /// <summary>The schema keywords behind <paramref name="rules"/>, for a message.</summary>
        private string Describe(IEnumerable<string> rules)
        {
            var origins = rules.Select(r => _origins.GetValueOrDefault(r)).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
            return origins.Count == 0 ? "the schema's root" : string.Join(", ", origins);
        }

        /// <summary>A GBNF expression matching <paramref name="schema"/>.</summary>
        public string Rule(JsonElement schema, int depth)
        {
            if (depth > JsonSchemaLimits.MaxDepth)
            {
                throw new ArgumentException($"The JSON schema nests deeper than {JsonSchemaLimits.MaxDepth} levels (subschemas and $ref hops along one path).");
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

            Consistent(schema);
            if (schema.TryGetProperty("$ref", out var reference))
            {
                return Reference(Text(reference) ?? throw new ArgumentException("The JSON schema $ref must be a string."), depth);
            }

            if (schema.TryGetProperty("const", out var constant))
            {
                return Literal(Canonical(constant));
            }

            if (schema.TryGetProperty("enum", out var values) && values.ValueKind == JsonValueKind.Array && values.GetArrayLength() > 0)
            {
                if (values.GetArrayLength() > JsonSchemaLimits.MaxEnumValues)
                {
                    throw new ArgumentException($"The JSON schema's enum has {values.GetArrayLength()} values (limit {JsonSchemaLimits.MaxEnumValues}).");
                }

                var texts = values.EnumerateArray().Select(Canonical).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
                if (texts.Sum(t => (long)t.Length) > JsonSchemaLimits.MaxGrammarChars)
                {
                    throw new ArgumentException($"The JSON schema's enum values are longer than {JsonSchemaLimits.MaxGrammarChars} characters in all.");
                }

                return Add(Trie(texts, 0, texts.Count, 0), "enum");
            }

            foreach (var keyword in (string[])["anyOf", "oneOf"])
            {
                if (schema.TryGetProperty(keyword, out var options) && options.ValueKind == JsonValueKind.Array && options.GetArrayLength() > 0)
                {
                    return Add("( " + string.Join(" | ", options.EnumerateArray().Select(o => Rule(o, depth + 1))) + " )", keyword);
                }
            }

            if (schema.TryGetProperty("type", out var type))
            {
                if (type.ValueKind == JsonValueKind.Array)
                {
                    var alternatives = type.EnumerateArray().Select(t => Typed(Text(t), schema, depth)).Distinct().ToArray();
                    return alternatives.Length == 0 ? "value" : Add("( " + string.Join(" | ", alternatives) + " )", "type");
                }

                return Typed(Text(type), schema, depth);
            }

            if (schema.TryGetProperty("properties", out _))
            {
                return Typed("object", schema, depth);
            }

            return schema.TryGetProperty("items", out _) ? Typed("array", schema, depth) : "value";
        }

        /// <summary>Refuses a schema whose lower bound is above its upper bound: no answer could satisfy it.</summary>
        private static void Consistent(JsonElement schema)
        {
            foreach (var (low, high, strict) in (ReadOnlySpan<(string, string, bool)>)[
                ("minLength", "maxLength", false), ("minItems", "maxItems", false), ("minProperties", "maxProperties", false),
                ("minimum", "maximum", false), ("exclusiveMinimum", "maximum", true), ("minimum", "exclusiveMaximum", true),
                ("exclusiveMinimum", "exclusiveMaximum", true)])
            {
                if (schema.TryGetProperty(low, out var l) && l.ValueKind == JsonValueKind.Number && l.TryGetDouble(out var min)
                    && schema.TryGetProperty(high, out var h) && h.ValueKind == JsonValueKind.Number && h.TryGetDouble(out var max)
                    && (min > max || (strict && min >= max)))
                {
                    throw new ArgumentException($"The JSON schema's {low} ({l.GetRawText()}) is {(min > max ? "above" : "equal to")} its {high} ({h.GetRawText()}): no answer could satisfy it.");
                }
            }
        }

        /// <summary>The element's text, or null when it is not a string (a schema keyword of the wrong kind).</summary>
        private static string? Text(JsonElement element) => element.ValueKind == JsonValueKind.String ? element.GetString() : null;

        private string Typed(string? type, JsonElement schema, int depth) => type switch
        {
            "string" => StringRule(schema),
            "number" => "number",
            "integer" => IntegerRangeGrammar.Bounds(schema) is { } range ? Add(IntegerRangeGrammar.Rule(range.Low, range.High), "minimum") : "integer",
            "boolean" => Add("( \"true\" | \"false\" )", "type"),
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

            // maxLength 0 is the empty string: llama.cpp is not given a repetition of nothing ("char{0}").
            var chars = max == 0 ? "" : Repeat("char", min, max) + " ";
            return Add("\"\\\"\" " + chars + "\"\\\"\"", max is null ? "minLength" : "maxLength");
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
            // A name given twice would be two members matching the same text: ambiguity the grammar engine pays for.
            var names = new HashSet<string>(StringComparer.Ordinal);
            var members = properties.EnumerateObject()
                .Select(p => names.Add(p.Name)
                    ? (Required: required.Contains(p.Name),
                        Rule: Add(Literal(JsonSerializer.Serialize(p.Name, s_literalJson)) + " \":\" ws " + Rule(p.Value, depth + 1) + " ws", "properties"))
                    : throw new ArgumentException($"The JSON schema's properties name '{p.Name}' twice."))
                .ToList();
            var mandatory = members.Where(m => m.Required).Select(m => m.Rule).ToList();
            var optional = members.Where(m => !m.Required).Select(m => m.Rule).ToList();

            // Optional members keep their declared order. rest[i] is "any of the optional members from i on, each
            // after a comma"; with no mandatory member the first optional member present opens the list instead.
            var rest = new string[optional.Count + 1];
            rest[optional.Count] = "";
            for (var i = optional.Count - 1; i >= 0; i--)
            {
                rest[i] = Add(("( \",\" ws " + optional[i] + " )? " + rest[i + 1]).Trim(), "properties");
            }

            string body;
            if (mandatory.Count > 0)
            {
                body = (string.Join(" \",\" ws ", mandatory) + " " + rest[0]).Trim();
            }
            else
            {
                // One flat alternation: each opener begins with its own name, so the grammar engine follows only the
                // member being written once the name differs (a nested chain of alternations would look alike).
                var openers = optional.Select((member, i) => (member + " " + rest[i + 1]).Trim()).ToList();
                body = openers.Count == 0 ? "" : "( " + Add("( " + string.Join(" | ", openers) + " )", "properties") + " )?";
            }

            return Add("\"{\" ws " + body + " \"}\"", "properties");
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
                return Add("\"[\" ws \"]\"", "maxItems");
            }

            var element = Add(item + " ws", "items");
            var next = Add("\",\" ws " + element, "items");
            var more = max == 1 ? "" : Repeat(next, Math.Max(0, min - 1), max - 1);
            var list = (element + " " + more).Trim();
            return Add("\"[\" ws " + (min == 0 ? "( " + list + " )?" : list) + " \"]\"", "items");
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
            _origins[name] = $"$ref '{target}'";
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

            return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) && n is >= 0 and <= JsonSchemaLimits.MaxRepeat
                ? n
                : throw new ArgumentException($"The JSON schema's {keyword} must be an integer from 0 to {JsonSchemaLimits.MaxRepeat}.");
        }

        /// <summary>A new rule for <paramref name="body"/>, made for the schema keyword <paramref name="origin"/>.</summary>
        private string Add(string body, string origin)
        {
            var name = NewName();
            _rules.Add((name, body));
            _origins[name] = origin;
            return name;
        }

        private string NewName()
        {
            if (_rules.Count >= JsonSchemaLimits.MaxRules)
            {
                throw new ArgumentException($"The JSON schema needs more than {JsonSchemaLimits.MaxRules} grammar rules.");
            }

            return prefix + (_rules.Count + 1).ToString(CultureInfo.InvariantCulture);
        }

        /// <summary>The JSON text of <paramref name="value"/> without whitespace, as an answer would have to spell it.</summary>
        private static string Canonical(JsonElement value) => JsonSerializer.Serialize(value, s_literalJson);

        /// <summary>
        /// A GBNF expression matching exactly <paramref name="sorted"/>[from..to) (ordinally sorted, distinct, sharing their
        /// first <paramref name="depth"/> characters) from that depth on, as a prefix tree: llama.cpp then follows one path per
        /// distinct next character instead of one per value, so a long enum costs little per token. Each level ends at a
        /// branch, so the recursion is no deeper than the number of values.
        /// </summary>
        private static string Trie(List<string> sorted, int from, int to, int depth)
        {
            var branches = new List<string>();
            var optional = false;
            var i = from;
            while (i < to)
            {
                if (sorted[i].Length == depth)
                {
                    // Sorted first: this value ends here, so what follows is optional.
                    optional = true;
                    i++;
                    continue;
                }

                var width = char.IsHighSurrogate(sorted[i][depth]) && depth + 1 < sorted[i].Length ? 2 : 1;
                var j = i + 1;
                while (j < to && string.CompareOrdinal(sorted[j], depth, sorted[i], depth, width) == 0)
                {
                    j++;
                }

                // Sorted strings share what the first and the last share; never split a surrogate pair.
                var end = depth + width;
                while (end < sorted[i].Length && end < sorted[j - 1].Length && sorted[i][end] == sorted[j - 1][end])
                {
                    end++;
                }

                if (end < sorted[i].Length && char.IsLowSurrogate(sorted[i][end]) && end - 1 > depth)
                {
                    end--;
                }

                var rest = j - i == 1 && sorted[i].Length == end ? "" : " " + Trie(sorted, i, j, end);
                branches.Add(Literal(sorted[i][depth..end]) + rest);
                i = j;
            }

            return branches.Count == 1 && !optional ? branches[0] : "( " + string.Join(" | ", branches) + " )" + (optional ? "?" : "");
        }

        /// <summary>A GBNF literal for <paramref name="json"/>, character for character.</summary>
        private static string Literal(string json)
        {
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
