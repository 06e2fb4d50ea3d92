using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sios.Templates;

/// <summary>A parsed chat template: immutable, thread-safe, parse once and render many times.</summary>
public sealed class ChatTemplate
{
    private readonly List<Node> _program;
    private readonly SourceMap _map;

    private ChatTemplate(string source, List<Node> program, SourceMap map)
    {
        Source = source;
        _program = program;
        _map = map;
    }

    /// <summary>The template's source text, as given to <see cref="Parse"/>.</summary>
    public string Source { get; }

    /// <summary>Parses a template; throws <see cref="ChatTemplateException"/> naming the construct and its line:column.</summary>
    public static ChatTemplate Parse(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        try
        {
            return new ChatTemplate(source, Parser.Parse(source), new SourceMap(source));
        }
        catch (InsufficientExecutionStackException)
        {
            throw new ChatTemplateException("The template nests too deeply to parse", "nesting", 0, 0);
        }
    }

    /// <summary>Renders the template with these variables (JSON values); throws <see cref="ChatTemplateException"/>.</summary>
    public string Render(JsonObject variables, ChatTemplateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(variables);
        IEnumerable<KeyValuePair<string, Value>> converted;
        try
        {
            converted = [.. variables.Select(v => KeyValuePair.Create(v.Key, FromJson(v.Value)))];
        }
        catch (InsufficientExecutionStackException)
        {
            throw new ChatTemplateException("The variables nest too deeply", "variables", 0, 0);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException or JsonException)
        {
            // A JsonValue can wrap what JSON cannot say (NaN, a character, an object that does not serialize).
            throw new ChatTemplateException($"The variables are not all JSON values: {e.Message}", e);
        }

        return Interpreter.Render(_program, _map, converted, options ?? ChatTemplateOptions.Default);
    }

    // JSON as the reference receives it through JSON.parse: integral numbers are integers (1.0 too), and a dict's
    // integer-like keys come first in ascending order, as JavaScript orders an object's own keys.
    private static Value FromJson(JsonNode? node)
    {
        RuntimeHelpers.EnsureSufficientExecutionStack();
        switch (node)
        {
            case null:
                return NullValue.Instance;
            case JsonObject dict:
                var entries = new OrderedDictionary<string, Value>();
                foreach (var (key, value) in dict.Where(e => IsArrayIndex(e.Key)).OrderBy(e => uint.Parse(e.Key, CultureInfo.InvariantCulture))
                             .Concat(dict.Where(e => !IsArrayIndex(e.Key))))
                {
                    entries[key] = FromJson(value);
                }

                return new ObjectValue(entries);
            case JsonArray array:
                return new ArrayValue([.. array.Select(FromJson)]);
        }

        switch (node.GetValueKind())
        {
            case JsonValueKind.String:
                return new StringValue(node.AsValue().TryGetValue<string>(out var text) ? text : JsonSerializer.Deserialize<string>(node.ToJsonString())!);
            case JsonValueKind.Number:
                var number = double.Parse(node.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);
                return NumberValue.Of(number, double.IsFinite(number) && number == Math.Floor(number));
            case JsonValueKind.True:
                return BooleanValue.True;
            case JsonValueKind.False:
                return BooleanValue.False;
            case JsonValueKind.Object or JsonValueKind.Array:
                return FromJson(JsonNode.Parse(node.ToJsonString()));
            default:
                return NullValue.Instance;
        }
    }

    private static bool IsArrayIndex(string key) =>
        key.Length > 0 && key.All(char.IsAsciiDigit) && (key == "0" || key[0] != '0') && key.Length <= 10
        && ulong.Parse(key, CultureInfo.InvariantCulture) < uint.MaxValue;
}
