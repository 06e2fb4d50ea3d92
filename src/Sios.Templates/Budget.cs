namespace Sios.Templates;

/// <summary>
/// What one render may spend: steps and output characters. A loop iteration or a call is a step, an evaluated
/// expression a quarter of one, and work over data costs in proportion to its size, so that few steps cannot hide much
/// work: an item made or passed over is a step, a string operated on a step per 64 characters (operations on long
/// strings make long strings, which are dear to collect), text copied or searched a step per 256 characters, text
/// formatted character by character (JSON, printed lists) a step per 64. A step is roughly a fifth of a microsecond.
/// </summary>
internal sealed class Budget(ChatTemplateOptions options)
{
    private const double CopiedPerStep = 256;
    private const double FormattedPerStep = 64;

    private double _spent;

    /// <summary>The most characters any string may hold.</summary>
    public int Cap { get; } = options.MaxOutputChars;

    public double Remaining => options.MaxSteps - _spent;

    public void Step() => Charge(1);

    public void Expression() => Charge(0.25);

    public void Charge(double units)
    {
        _spent += units;
        if (_spent > options.MaxSteps)
        {
            throw new RenderError($"the template took more than {options.MaxSteps} steps (loop iterations, calls, expressions and the work they do)", "limit 'steps'");
        }
    }

    /// <summary>Charges for text read or copied.</summary>
    public void ChargeText(long characters) => Charge(characters / CopiedPerStep);

    /// <summary>Charges for text written character by character.</summary>
    public void ChargeFormatted(long characters) => Charge(characters / FormattedPerStep);

    /// <summary>Charges a substring search in text of length n for a pattern of length m, before it runs.</summary>
    public void ChargeSearch(long n, long m) => Charge(n * (double)Math.Max(1, m) / CopiedPerStep);

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
        static double Text(string s) => s.Length / FormattedPerStep;
        static double Item(Value v) => 1 + (v is StringValue s ? Text(s.Text) : 0);

        return value switch
        {
            StringValue s => Text(s.Text),
            ArrayValue a => a.Items.Sum(Item),
            ObjectValue o => o.Entries.Sum(e => Item(e.Value) + Text(e.Key)),
            NamespaceValue ns => ns.Entries.Count,
            _ => 0,
        };
    }
}
