using System.Text;

namespace Sios.Templates;

/// <summary>
/// The string methods the reference has (and only those: no find, count, format, join or zfill). strip, lstrip and
/// rstrip ignore their argument and always strip whitespace, as the reference's do.
/// </summary>
internal static class StringMethods
{
    public static Value? Get(string text, string name, Budget budget)
    {
        FunctionValue Method(Func<List<Value>, Value> body) => new($"method 'str.{name}'", (args, _) => body(args));

        return name switch
        {
            "length" => NumberValue.Integer(text.Length),
            "upper" => Method(_ => new StringValue(JsText.ToUpper(text))),
            "lower" => Method(_ => new StringValue(JsText.ToLower(text))),
            "strip" => Method(_ => new StringValue(JsText.Trim(text))),
            "lstrip" => Method(_ => new StringValue(JsText.TrimStart(text))),
            "rstrip" => Method(_ => new StringValue(JsText.TrimEnd(text))),
            "title" => Method(_ => new StringValue(JsText.Title(text))),
            "capitalize" => Method(_ => new StringValue(JsText.Capitalize(text))),
            "startswith" => Method(args => Affix(text, args, "startswith", (s, p) => s.StartsWith(p, StringComparison.Ordinal))),
            "endswith" => Method(args => Affix(text, args, "endswith", (s, p) => s.EndsWith(p, StringComparison.Ordinal))),
            "split" => Method(args => Split(text, args, budget)),
            "replace" => Method(args => Replace(text, args, budget)),
            _ => null,
        };
    }

    private static BooleanValue Affix(string text, List<Value> args, string name, Func<string, string, bool> test)
    {
        switch (args.FirstOrDefault())
        {
            case null:
                throw new RenderError($"{name}() requires at least one argument", $"method 'str.{name}'");
            case StringValue affix:
                return BooleanValue.Of(test(text, affix.Text));
            case ArrayValue choices:
                foreach (var choice in choices.Items)
                {
                    if (choice is not StringValue s)
                    {
                        throw new RenderError($"{name}() tuple elements must be strings", $"method 'str.{name}'");
                    }

                    if (test(text, s.Text))
                    {
                        return BooleanValue.True;
                    }
                }

                return BooleanValue.False;
            default:
                throw new RenderError($"{name}() argument must be a string or tuple of strings", $"method 'str.{name}'");
        }
    }

    // Python's str.split(sep=None, maxsplit=-1), positional arguments only, as the reference implements it.
    private static ArrayValue Split(string text, List<Value> args, Budget budget)
    {
        var separator = args.ElementAtOrDefault(0) ?? NullValue.Instance;
        if (separator is not (StringValue or NullValue))
        {
            throw new RenderError("sep argument must be a string or null", "method 'str.split'");
        }

        if ((args.ElementAtOrDefault(1) ?? NumberValue.Integer(-1)) is not NumberValue { Kind: ValueKind.Integer } limit)
        {
            throw new RenderError("maxsplit argument must be a number", "method 'str.split'");
        }

        var max = limit.Number;
        var parts = new List<string>();
        if (separator is StringValue { Text: var sep })
        {
            if (sep.Length == 0)
            {
                throw new RenderError("empty separator", "method 'str.split'");
            }

            budget.ChargeSearch(text.Length, sep.Length);
            parts.AddRange(text.Split(sep));
            if (max != -1 && parts.Count > max)
            {
                // Array.prototype.splice(max): the rest, from there on, joined back as the last part.
                var from = (int)Math.Clamp(max < 0 ? parts.Count + JsNumber.ToIntegerOrInfinity(max) : JsNumber.ToIntegerOrInfinity(max), 0, parts.Count);
                var rest = string.Join(sep, parts.Skip(from));
                parts.RemoveRange(from, parts.Count - from);
                parts.Add(rest);
            }
        }
        else
        {
            // Runs of whitespace separate; with maxsplit the last part keeps the rest, trailing blanks included.
            var rest = JsText.TrimStart(text);
            var i = 0;
            while (i < rest.Length)
            {
                var start = i;
                while (i < rest.Length && !JsText.IsWhitespace(rest[i]))
                {
                    i++;
                }

                if (max != -1 && parts.Count >= max)
                {
                    parts.Add(rest[start..]);
                    break;
                }

                parts.Add(rest[start..i]);
                while (i < rest.Length && JsText.IsWhitespace(rest[i]))
                {
                    i++;
                }
            }
        }

        return new ArrayValue([.. parts.Select(p => (Value)new StringValue(p))]);
    }

    /// <summary>str.replace(old, new[, count]); count may come as a keyword (the trailing keyword-arguments value).</summary>
    public static StringValue Replace(string text, List<Value> args, Budget budget)
    {
        if (args.Count < 2)
        {
            throw new RenderError("replace() requires at least two arguments", "method 'str.replace'");
        }

        if (args[0] is not StringValue old || args[1] is not StringValue replacement)
        {
            throw new RenderError("replace() arguments must be strings", "method 'str.replace'");
        }

        var count = args.Count > 2
            ? args[2] is KeywordArgumentsValue keywords ? keywords.Entries.GetValueOrDefault("count") ?? NullValue.Instance : args[2]
            : NullValue.Instance;
        if (count is not (NumberValue { Kind: ValueKind.Integer } or NullValue))
        {
            throw new RenderError("replace() count argument must be a number or null", "method 'str.replace'");
        }

        var remaining = count is NumberValue n ? (n.Number < 0 ? double.PositiveInfinity : n.Number) : double.PositiveInfinity;
        budget.ChargeSearch(text.Length, old.Text.Length);
        return new StringValue(remaining == 0 ? text : ReplaceAll(text, old.Text, replacement.Text, remaining, budget));
    }

    // Matches start and end on code point boundaries (the reference's regex has the u flag); an empty pattern
    // matches between every two code points and at both ends.
    private static string ReplaceAll(string text, string old, string replacement, double remaining, Budget budget)
    {
        static bool InsidePair(string s, int i) => i > 0 && i < s.Length && char.IsLowSurrogate(s[i]) && char.IsHighSurrogate(s[i - 1]);

        var result = new StringBuilder();
        var copied = 0;
        var at = 0;
        while (remaining > 0 && at <= text.Length)
        {
            var match = old.Length == 0 ? at : text.IndexOf(old, at, StringComparison.Ordinal);
            if (match < 0)
            {
                break;
            }

            if (InsidePair(text, match) || InsidePair(text, match + old.Length))
            {
                at = match + 1;
                continue;
            }

            // Each replacement made costs a step, as an item made does.
            result.Append(text, copied, match - copied).Append(replacement);
            copied = match + old.Length;
            remaining--;
            budget.Step();
            budget.CheckLength(result.Length);

            at = old.Length == 0 ? match + (InsidePair(text, match + 1) ? 2 : 1) : copied;
        }

        budget.ChargeText(result.Length);
        return result.Append(text, copied, text.Length - copied).ToString();
    }
}
