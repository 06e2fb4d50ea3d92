using System.Globalization;
using System.Text.RegularExpressions;
using Sios.Brains.Engines;

namespace Sios.Brains.Tests.Engines;

/// <summary>The integer-range rules accept exactly the integers of their range: read as a regular expression, checked on and around its edges.</summary>
public sealed class IntegerRangeGrammarTests
{
    /// <summary>The rule's language as a .NET regular expression (it uses only literals, classes, counts and groups).</summary>
    private static Regex AsRegex(string rule)
    {
        var pattern = Regex.Replace(rule, "\"([^\"]*)\"", m => Regex.Escape(m.Groups[1].Value)).Replace("( ", "(?:", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal);
        return new Regex("^(?:" + pattern + ")$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(5));
    }

    public static TheoryData<long, long> Ranges()
    {
        var data = new TheoryData<long, long> { { 0, 0 }, { -5, 5 }, { 1, 9 }, { 10, 99 }, { 7, 1_000 }, { -1_000, -7 }, { 123, 4_567 }, { -99_999, 12_345_678 }, { 100, 100 } };
        var random = new Random(42);
        for (var i = 0; i < 25; i++)
        {
            var a = (long)(random.NextDouble() * 2e6) - 1_000_000;
            var b = a + random.Next(0, 50_000);
            data.Add(a, b);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Ranges))]
    public void A_range_rule_accepts_the_integers_in_range_and_no_other(long low, long high)
    {
        var regex = AsRegex(IntegerRangeGrammar.Rule(low, high));
        var random = new Random((int)(low ^ high));
        var probes = new List<long>();
        for (var d = -60; d <= 60; d++)
        {
            probes.Add(low + d);
            probes.Add(high + d);
        }

        for (var i = 0; i < 300; i++)
        {
            probes.Add(random.NextInt64(Math.Min(low, high) - 1000, Math.Max(low, high) + 1000));
        }

        foreach (var n in probes)
        {
            Assert.True(regex.IsMatch(n.ToString(CultureInfo.InvariantCulture)) == (n >= low && n <= high), $"{n} in [{low}, {high}]: {regex}");
        }

        // No leading zeros, no minus zero: only JSON's own spelling of an integer.
        Assert.DoesNotMatch(regex, "-0");
        Assert.DoesNotMatch(regex, "0" + high.ToString(CultureInfo.InvariantCulture));
    }

    [Fact]
    public void The_widest_range_is_every_integer_of_at_most_15_digits()
    {
        var regex = AsRegex(IntegerRangeGrammar.Rule(-IntegerRangeGrammar.Largest, IntegerRangeGrammar.Largest));
        Assert.Matches(regex, "999999999999999");
        Assert.Matches(regex, "-999999999999999");
        Assert.DoesNotMatch(regex, "1000000000000000");
    }

    [Theory]
    [InlineData("""{"minimum":-9007199254740991,"maximum":9007199254740991}""", -IntegerRangeGrammar.Largest, IntegerRangeGrammar.Largest)]
    [InlineData("""{"minimum":0.5,"maximum":10.5}""", 1, 10)]
    [InlineData("""{"exclusiveMinimum":0,"exclusiveMaximum":10}""", 1, 9)]
    [InlineData("""{"exclusiveMinimum":-2.5,"maximum":3}""", -2, 3)]
    public void Bounds_are_read_from_the_schema_and_kept_within_15_digits(string schema, long low, long high)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(schema);
        Assert.Equal((low, high), IntegerRangeGrammar.Bounds(doc.RootElement));
    }

    [Fact]
    public void Bounds_no_integer_can_meet_are_refused()
    {
        using var doc = System.Text.Json.JsonDocument.Parse("""{"exclusiveMinimum":1,"exclusiveMaximum":2}""");
        Assert.Throws<ArgumentException>(() => IntegerRangeGrammar.Bounds(doc.RootElement));
        using var huge = System.Text.Json.JsonDocument.Parse("""{"minimum":1e16}""");
        Assert.Throws<ArgumentException>(() => IntegerRangeGrammar.Bounds(huge.RootElement));
    }
}
