using System.Runtime.CompilerServices;
using System.Text;

namespace Sios.Templates;

/// <summary>How the reference writes JSON: for tojson (undefined as null) and for printing containers (undefined kept).</summary>
/// <param name="Indent">tojson's indent; null, 0 and NaN mean none.</param>
/// <param name="EnsureAscii">Escape code units from U+007F up as \uXXXX.</param>
/// <param name="Separators">Item and key separators; by default ", " and ": " (",", ": " when indenting).</param>
/// <param name="SortKeys">Sort dict keys as JavaScript's localeCompare does.</param>
/// <param name="UndefinedAsNull">Write undefined as null (tojson) rather than as the word undefined (printing).</param>
internal sealed record JsonOptions(double? Indent, bool EnsureAscii, (string Item, string Key)? Separators, bool SortKeys, bool UndefinedAsNull)
{
    public static readonly JsonOptions Display = new(null, false, null, false, false);

    public static readonly JsonOptions ToJson = new(null, false, null, false, true);
}

/// <summary>The reference's toJSON, with a cap on the characters written.</summary>
internal static class JsonFormatter
{
    public static string Format(Value value, JsonOptions options, Budget budget)
    {
        var output = new StringBuilder();
        Write(value, options, 0, output, budget.Cap);
        budget.ChargeFormatted(output.Length);
        return output.ToString();
    }

    private static void Write(Value value, JsonOptions options, int depth, StringBuilder output, int cap)
    {
        RuntimeHelpers.EnsureSufficientExecutionStack();
        var (item, key) = options.Separators ?? (IsIndented(options) ? (",", ": ") : (", ", ": "));
        switch (value)
        {
            case NullValue:
                output.Append("null");
                break;
            case UndefinedValue:
                output.Append(options.UndefinedAsNull ? "null" : "undefined");
                break;
            case NumberValue number:
                output.Append(double.IsFinite(number.Number) ? JsNumber.ToString(number.Number) : "null");
                break;
            case BooleanValue boolean:
                output.Append(boolean.Flag ? "true" : "false");
                break;
            case StringValue text:
                WriteString(text.Text, options.EnsureAscii, output);
                break;
            case ArrayValue { Kind: ValueKind.Array } array:
                WriteContainer(array.Items.Select(v => (Key: (string?)null, Value: v)).ToList(), '[', ']', options, depth, output, cap, item, key);
                break;
            case ObjectValue { Kind: ValueKind.Object } or NamespaceValue:
                var entries = (value is ObjectValue o ? o.Entries : ((NamespaceValue)value).Entries).Select(e => (Key: (string?)e.Key, e.Value)).ToList();
                if (options.SortKeys)
                {
                    entries = [.. entries.OrderBy(e => e.Key, LocaleOrder.Instance)];
                }

                WriteContainer(entries, '{', '}', options, depth, output, cap, item, key);
                break;
            case VoidValue:
                throw Values.VoidUse();
            default:
                throw new RenderError($"Cannot convert to JSON: {value.TypeName}", "tojson");
        }

        if (output.Length > cap)
        {
            throw RenderError.OutputLimit("the JSON text", cap);
        }
    }

    private static void WriteContainer(List<(string? Key, Value Value)> children, char open, char close, JsonOptions options, int depth,
        StringBuilder output, int cap, string itemSeparator, string keySeparator)
    {
        var indented = IsIndented(options);
        var unit = "";
        if (indented)
        {
            var count = JsNumber.ToIntegerOrInfinity(options.Indent!.Value);
            if (count < 0 || double.IsInfinity(count))
            {
                throw new RenderError($"Invalid count value: {JsNumber.ToString(options.Indent.Value)}", "tojson");
            }

            if (count > cap)
            {
                throw RenderError.OutputLimit("the JSON indent", cap);
            }

            unit = new string(' ', (int)count);
        }

        output.Append(open);
        var padding = "\n" + string.Concat(Enumerable.Repeat(unit, depth));
        for (var index = 0; index < children.Count; index++)
        {
            if (index > 0)
            {
                output.Append(itemSeparator);
            }

            if (indented)
            {
                output.Append(padding).Append(unit);
            }

            var (key, child) = children[index];
            if (key is not null)
            {
                WriteString(key, options.EnsureAscii, output);
                output.Append(keySeparator);
            }

            Write(child, options, depth + 1, output, cap);
        }

        if (indented && children.Count > 0)
        {
            output.Append(padding);
        }

        output.Append(close);
    }

    private static bool IsIndented(JsonOptions options) => options.Indent is { } n && n != 0 && !double.IsNaN(n);

    // JSON.stringify of a string (escapes for '"', '\', controls and lone surrogates), then ensure_ascii's \uXXXX.
    private static void WriteString(string s, bool ensureAscii, StringBuilder output)
    {
        output.Append('"');
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            var paired = (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
                         || (char.IsLowSurrogate(c) && i > 0 && char.IsHighSurrogate(s[i - 1]));
            switch (c)
            {
                case '"': output.Append("\\\""); break;
                case '\\': output.Append("\\\\"); break;
                case '\b': output.Append("\\b"); break;
                case '\f': output.Append("\\f"); break;
                case '\n': output.Append("\\n"); break;
                case '\r': output.Append("\\r"); break;
                case '\t': output.Append("\\t"); break;
                default:
                    if (c < ' ' || (char.IsSurrogate(c) && !paired) || (ensureAscii && c >= '\u007F'))
                    {
                        output.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        output.Append(c);
                    }

                    break;
            }
        }

        output.Append('"');
    }
}

/// <summary>
/// String.prototype.localeCompare in the reference's default locale (ICU root order) for ASCII: controls ignored,
/// then blanks, punctuation and symbols, digits, letters (case-blind first, lower before upper on a tie).
/// Beyond ASCII it falls back to code-unit order, an approximation.
/// </summary>
internal sealed class LocaleOrder : IComparer<string?>
{
    public static readonly LocaleOrder Instance = new();

    private const string Order = "\t\n\v\f\r _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789";

    public int Compare(string? x, string? y)
    {
        var (a, b) = (Weights(x ?? ""), Weights(y ?? ""));
        for (var i = 0; i < Math.Min(a.Count, b.Count); i++)
        {
            if (a[i].Primary != b[i].Primary)
            {
                return a[i].Primary.CompareTo(b[i].Primary);
            }
        }

        if (a.Count != b.Count)
        {
            return a.Count.CompareTo(b.Count);
        }

        for (var i = 0; i < a.Count; i++)
        {
            if (a[i].Upper != b[i].Upper)
            {
                return a[i].Upper ? 1 : -1;
            }
        }

        return 0;
    }

    private static List<(int Primary, bool Upper)> Weights(string s)
    {
        var weights = new List<(int, bool)>(s.Length);
        foreach (var c in s)
        {
            var position = Order.IndexOf(c, StringComparison.Ordinal);
            if (position >= 0)
            {
                weights.Add((position, false));
            }
            else if (char.IsAsciiLetter(c))
            {
                weights.Add((Order.Length + char.ToLowerInvariant(c) - 'a', char.IsAsciiLetterUpper(c)));
            }
            else if (c >= '\u0080')
            {
                weights.Add((Order.Length + 26 + c, false));
            }
        }

        return weights;
    }
}
