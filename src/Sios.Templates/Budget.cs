namespace Sios.Templates;

/// <summary>
/// What one render may spend: steps and output characters. A loop iteration, a call and an evaluated expression each
/// cost a step, and work over long strings and large lists costs in proportion to its size (a character is a
/// sixteenth of a step, an item one), so that no template can keep the CPU busy for long on few steps.
/// </summary>
internal sealed class Budget(ChatTemplateOptions options)
{
    private const int CharactersPerStep = 16;

    private long _spent;

    /// <summary>The most characters any string may hold.</summary>
    public int Cap { get; } = options.MaxOutputChars;

    public long Remaining => options.MaxSteps - _spent;

    public void Step() => Charge(1);

    public void Charge(double units)
    {
        _spent += (long)Math.Min(units, long.MaxValue / 2);
        if (_spent > options.MaxSteps)
        {
            throw new RenderError($"the template took more than {options.MaxSteps} steps (loop iterations, calls, expressions and the work they do)", "limit 'steps'");
        }
    }

    /// <summary>Charges for text produced or read: a step per 16 characters.</summary>
    public void ChargeText(long characters) => Charge(characters / (double)CharactersPerStep);

    /// <summary>Charges a substring search in text of length n for a pattern of length m, before it runs.</summary>
    public void ChargeSearch(long n, long m) => Charge(n * (double)Math.Max(1, m) / CharactersPerStep);

    /// <summary>Charges what a pass over a value costs: its items, and the characters of its strings, one level deep.</summary>
    public void ChargeSize(Value value) => Charge(Size(value));

    /// <summary>Charges a sort: a pass over the value per halving of its length.</summary>
    public void ChargeSort(Value value, int count) => Charge(Size(value) * Math.Max(1, Math.Ceiling(Math.Log2(Math.Max(1, count)))));

    public void CheckLength(long length)
    {
        if (length > Cap)
        {
            throw RenderError.OutputLimit("the output", Cap);
        }
    }

    private static double Size(Value value)
    {
        static double Shallow(Value v) => v is StringValue s ? s.Text.Length / (double)CharactersPerStep : 1;

        return value switch
        {
            StringValue s => s.Text.Length / (double)CharactersPerStep,
            ArrayValue a => a.Items.Sum(Shallow),
            ObjectValue o => o.Entries.Values.Sum(Shallow) + (o.Entries.Count > 0 ? o.Entries.Keys.Sum(k => k.Length) / (double)CharactersPerStep : 0),
            NamespaceValue ns => ns.Entries.Count,
            _ => 0,
        };
    }
}
