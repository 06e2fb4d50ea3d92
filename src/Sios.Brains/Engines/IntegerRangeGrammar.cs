using System.Globalization;
using System.Text.Json;

namespace Sios.Brains.Engines;

/// <summary>
/// GBNF for the integers of a closed range, written digit by digit, so that an integer a schema bounds
/// (<c>minimum</c>, <c>maximum</c> and their exclusive forms) is generated inside its bounds and not merely checked.
/// </summary>
internal static class IntegerRangeGrammar
{
    /// <summary>The largest magnitude generated: 15 digits, so every integer is exact in a JavaScript number (2^53).</summary>
    public const long Largest = 999_999_999_999_999;

    /// <summary>The range <paramref name="schema"/>'s bounds allow, or null when it sets none.</summary>
    /// <exception cref="ArgumentException">No integer of at most 15 digits lies within them.</exception>
    public static (long Low, long High)? Bounds(JsonElement schema)
    {
        var low = -Largest;
        var high = Largest;
        var bounded = false;
        if (Number(schema, "minimum") is { } min)
        {
            (low, bounded) = (Math.Max(low, Clamp(Math.Ceiling(min))), true);
        }

        if (Number(schema, "exclusiveMinimum") is { } exclusiveMin)
        {
            (low, bounded) = (Math.Max(low, Clamp(Math.Floor(exclusiveMin) + 1)), true);
        }

        if (Number(schema, "maximum") is { } max)
        {
            (high, bounded) = (Math.Min(high, Clamp(Math.Floor(max))), true);
        }

        if (Number(schema, "exclusiveMaximum") is { } exclusiveMax)
        {
            (high, bounded) = (Math.Min(high, Clamp(Math.Ceiling(exclusiveMax) - 1)), true);
        }

        if (low > high)
        {
            throw new ArgumentException("The JSON schema's integer bounds leave no integer of at most 15 digits to generate.");
        }

        return bounded ? (low, high) : null;
    }

    /// <summary>The GBNF body of the integers from <paramref name="low"/> to <paramref name="high"/>, both within ±<see cref="Largest"/>.</summary>
    public static string Rule(long low, long high)
    {
        var parts = new List<string>();
        if (low < 0)
        {
            parts.Add("\"-\" " + NonNegative(-Math.Min(high, -1), -low));
        }

        if (high >= 0)
        {
            parts.Add(NonNegative(Math.Max(low, 0), high));
        }

        return parts.Count == 1 ? parts[0] : "( " + string.Join(" | ", parts) + " )";
    }

    private static string NonNegative(long low, long high)
    {
        var parts = new List<string>();
        var power = 1L;
        for (var digits = 1; digits <= 15; digits++, power *= 10)
        {
            var from = Math.Max(low, digits == 1 ? 0 : power);
            var to = Math.Min(high, power * 10 - 1);
            if (from <= to)
            {
                parts.Add(SameLength(from.ToString(CultureInfo.InvariantCulture), to.ToString(CultureInfo.InvariantCulture)));
            }
        }

        return parts.Count == 1 ? parts[0] : "( " + string.Join(" | ", parts) + " )";
    }

    /// <summary>The digit strings from <paramref name="from"/> to <paramref name="to"/>, both of the same length.</summary>
    private static string SameLength(string from, string to)
    {
        if (from.Length == 0)
        {
            return "";
        }

        if (from[0] == to[0])
        {
            return ($"\"{from[0]}\" " + SameLength(from[1..], to[1..])).TrimEnd();
        }

        var rest = from.Length - 1;
        var parts = new List<string>();
        var lowFirst = from[0];
        if (from[1..].Any(c => c != '0'))
        {
            parts.Add(($"\"{from[0]}\" " + SameLength(from[1..], new string('9', rest))).TrimEnd());
            lowFirst++;
        }

        var highFirst = to[0];
        var highPart = (string?)null;
        if (to[1..].Any(c => c != '9'))
        {
            highPart = ($"\"{to[0]}\" " + SameLength(new string('0', rest), to[1..])).TrimEnd();
            highFirst--;
        }

        if (lowFirst <= highFirst)
        {
            var first = lowFirst == highFirst ? $"\"{lowFirst}\"" : $"[{lowFirst}-{highFirst}]";
            parts.Add(rest == 0 ? first : $"{first} [0-9]{{{rest}}}");
        }

        if (highPart is not null)
        {
            parts.Add(highPart);
        }

        return parts.Count == 1 ? parts[0] : "( " + string.Join(" | ", parts) + " )";
    }

    private static double? Number(JsonElement schema, string keyword) =>
        schema.TryGetProperty(keyword, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number) && double.IsFinite(number)
            ? number
            : null;

    // One past the largest either way, so a bound beyond 15 digits leaves the range empty instead of pinning it to the edge.
    private static long Clamp(double value) => value > Largest ? Largest + 1 : value < -Largest ? -Largest - 1 : (long)value;
}
