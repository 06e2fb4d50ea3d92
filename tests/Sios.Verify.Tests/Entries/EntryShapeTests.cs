using System.Reflection;
using System.Text;
using Sios.Verify.Entries;

namespace Sios.Verify.Tests.Entries;

public sealed class EntryShapeTests
{
    private const string Header = "\"id\":\"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01\",\"time\":\"2026-11-26T10:00:00.123Z\",\"actor\":\"operator\"";

    [Fact]
    public void Every_catalogued_type_is_read_in_full()
    {
        var catalogue = typeof(EntryTypes).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetValue(null)!);
        Assert.Equal(catalogue.Order(StringComparer.Ordinal), EntryShape.TypedChecks.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_well_formed_entry_and_an_unknown_type_pass()
    {
        Assert.Null(EntryShape.Problem(new OperatorNoteEntry("hello").Write()));
        Assert.Null(EntryShape.Problem(Encoding.UTF8.GetBytes($$"""{"v":1,"type":"quota.exceeded",{{Header}},"limit":3}""")));
    }

    [Fact]
    public void A_catalogued_type_at_a_later_version_is_checked_by_its_header_alone()
    {
        Assert.Null(EntryShape.Problem(Encoding.UTF8.GetBytes($$"""{"v":2,"type":"operator.note",{{Header}}}""")));
    }

    [Theory]
    [InlineData("[1,2]", "not a JSON object")]
    [InlineData("""{"v":1,"type":"operator.note","time":"2026-11-26T10:00:00.123Z","actor":"operator","text":"x"}""", "'id'")]
    [InlineData("""{"v":1,"type":"operator.note","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"operator"}""", "'text'")]
    [InlineData("""{"v":1,"type":"key.created","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"operator","key":7}""", "key.created")]
    public void A_malformed_entry_is_described(string entry, string named)
    {
        var problem = EntryShape.Problem(Encoding.UTF8.GetBytes(entry));
        Assert.NotNull(problem);
        Assert.Contains(named, problem, StringComparison.Ordinal);
    }
}
