using System.Globalization;
using System.Numerics;
using System.Text.RegularExpressions;

namespace Sios.Templates;

/// <summary>
/// Numbers as the reference has them: JavaScript doubles, printed by Number.prototype.toString (shortest round-trip
/// digits, exponent from 1e21 and below 1e-6) and read by ToNumber, parseInt and parseFloat.
/// </summary>
internal static partial class JsNumber
{
    public static string ToString(double d)
    {
        if (double.IsNaN(d))
        {
            return "NaN";
        }

        if (double.IsInfinity(d))
        {
            return d > 0 ? "Infinity" : "-Infinity";
        }

        if (d == 0)
        {
            return "0";
        }

        if (d < 0)
        {
            return "-" + ToString(-d);
        }

        var (digits, point) = ShortestDigits(d);
        var k = digits.Length;
        if (k <= point && point <= 21)
        {
            return digits + new string('0', point - k);
        }

        if (0 < point && point <= 21)
        {
            return digits[..point] + "." + digits[point..];
        }

        if (-6 < point && point <= 0)
        {
            return "0." + new string('0', -point) + digits;
        }

        var exponent = point - 1;
        var mantissa = k == 1 ? digits : digits[..1] + "." + digits[1..];
        return mantissa + "e" + (exponent < 0 ? "-" : "+") + Math.Abs(exponent).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>How the reference prints a float: whole values keep ".0" (toFixed(1), exact), -0 is "-0.0".</summary>
    public static string FloatToString(double d)
    {
        if (d == 0 && double.IsNegative(d))
        {
            return "-0.0";
        }

        if (double.IsFinite(d) && d == Math.Floor(d))
        {
            return Math.Abs(d) < 1e21 ? new BigInteger(d).ToString(CultureInfo.InvariantCulture) + ".0" : ToString(d);
        }

        return ToString(d);
    }

    /// <summary>ToNumber applied to a string ("" and blanks are 0, anything unparsable NaN).</summary>
    public static double StringToNumber(string s)
    {
        var text = JsText.Trim(s);
        if (text.Length == 0)
        {
            return 0;
        }

        if (NonDecimal().Match(text) is { Success: true } radix)
        {
            var (digits, bits) = radix.Groups[1].Success ? (radix.Groups[1].Value, 4) : radix.Groups[2].Success ? (radix.Groups[2].Value, 3) : (radix.Groups[3].Value, 1);
            var value = BigInteger.Zero;
            foreach (var c in digits)
            {
                value = (value << bits) + int.Parse(c.ToString(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            }

            return (double)value;
        }

        return DecimalLiteral().IsMatch(text) ? ParseDecimal(text) : double.NaN;
    }

    /// <summary>parseInt(s, 10): leading blanks, a sign and the longest run of digits; NaN when there are none.</summary>
    public static double ParseInt(string s)
    {
        var match = IntegerPrefix().Match(JsText.TrimStart(s));
        if (!match.Success)
        {
            return double.NaN;
        }

        var value = double.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
        return match.Groups[1].Value == "-" ? -value : value;
    }

    /// <summary>parseFloat(s): the longest prefix that is a decimal literal (or Infinity); NaN when there is none.</summary>
    public static double ParseFloat(string s)
    {
        var match = FloatPrefix().Match(JsText.TrimStart(s));
        return match.Success ? ParseDecimal(match.Value) : double.NaN;
    }

    /// <summary>ToIntegerOrInfinity: NaN is 0, the rest truncated toward zero.</summary>
    public static double ToIntegerOrInfinity(double d) => double.IsNaN(d) ? 0 : Math.Truncate(d);

    private static double ParseDecimal(string text)
    {
        var sign = 1.0;
        if (text[0] is '+' or '-')
        {
            sign = text[0] == '-' ? -1 : 1;
            text = text[1..];
        }

        return sign * (text == "Infinity" ? double.PositiveInfinity : double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture));
    }

    // The shortest round-trip digits of a positive finite double (no leading or trailing zeros) and where the
    // decimal point falls: the value is 0.digits × 10^point.
    private static (string Digits, int Point) ShortestDigits(double d)
    {
        var text = d.ToString("R", CultureInfo.InvariantCulture);
        var exponent = 0;
        var e = text.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            exponent = int.Parse(text[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            text = text[..e];
        }

        var dot = text.IndexOf('.', StringComparison.Ordinal);
        var point = dot < 0 ? text.Length : dot;
        var digits = text.Replace(".", "", StringComparison.Ordinal);
        var leading = digits.Length - digits.TrimStart('0').Length;
        digits = digits.Trim('0');
        return (digits, point - leading + exponent);
    }

    [GeneratedRegex(@"^0(?:[xX]([0-9a-fA-F]+)|[oO]([0-7]+)|[bB]([01]+))\z")]
    private static partial Regex NonDecimal();

    [GeneratedRegex(@"^[+-]?(Infinity|[0-9]+\.?[0-9]*([eE][+-]?[0-9]+)?|\.[0-9]+([eE][+-]?[0-9]+)?)\z")]
    private static partial Regex DecimalLiteral();

    [GeneratedRegex(@"^([+-]?)([0-9]+)")]
    private static partial Regex IntegerPrefix();

    [GeneratedRegex(@"^[+-]?(Infinity|[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?|\.[0-9]+([eE][+-]?[0-9]+)?)")]
    private static partial Regex FloatPrefix();
}
