using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using Sios.Verify.Entries;

namespace Sios.Verify.Tests.Entries;

public sealed class LogEntryTests
{
    private const string Unknown = """{"v":1,"type":"quota.exceeded","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"key:a1b2c3d4e5f6","limit":{"rpm":60},"tags":["x"]}""";

    [Fact]
    public void An_unknown_type_parses_as_a_plain_header()
    {
        var header = LogEntry.Parse(Encoding.UTF8.GetBytes(Unknown));
        Assert.Equal(new LogEntry(1, "quota.exceeded", Golden.Id, Golden.Now, "key:a1b2c3d4e5f6"), header);
        Assert.Equal("quota.exceeded", LogEntry.TypeOf(Encoding.UTF8.GetBytes(Unknown)));
    }

    [Fact]
    public void The_header_does_not_depend_on_member_order()
    {
        var reordered = """{"actor":"system","extra":[1,{"a":2}],"time":"2026-11-26T10:00:00.123Z","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","type":"t","v":1}""";
        Assert.Equal(new LogEntry(1, "t", Golden.Id, Golden.Now, "system"), LogEntry.Parse(Encoding.UTF8.GetBytes(reordered)));
        Assert.Equal("t", LogEntry.TypeOf(Encoding.UTF8.GetBytes(reordered)));
    }

    [Theory]
    [InlineData("\"v\":1,")]
    [InlineData("\"type\":\"quota.exceeded\",")]
    [InlineData("\"id\":\"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01\",")]
    [InlineData("\"time\":\"2026-11-26T10:00:00.123Z\",")]
    [InlineData("\"actor\":\"key:a1b2c3d4e5f6\",")]
    public void A_header_missing_a_common_member_is_refused(string member)
    {
        var bytes = Encoding.UTF8.GetBytes(Unknown.Replace(member, "", StringComparison.Ordinal));
        Assert.Throws<FormatViolationException>(() => LogEntry.Parse(bytes));
        Assert.False(LogEntry.TryParse(bytes, out var none));
        Assert.Null(none);
    }

    [Theory]
    [InlineData("\"v\":1", "\"v\":\"1\"")]
    [InlineData("\"v\":1", "\"v\":0")]
    [InlineData("\"type\":\"quota.exceeded\"", "\"type\":\"\"")]
    [InlineData("0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01", "entry-1")]
    [InlineData("2026-11-26T10:00:00.123Z", "2026-11-26T10:00:00Z")]
    [InlineData("2026-11-26T10:00:00.123Z", "2026-11-26T11:00:00.123+01:00")]
    [InlineData("\"actor\":\"key:a1b2c3d4e5f6\"", "\"actor\":\"\"")]
    public void A_malformed_common_member_is_refused(string from, string to) =>
        Assert.False(LogEntry.TryParse(Encoding.UTF8.GetBytes(Unknown.Replace(from, to, StringComparison.Ordinal)), out _));

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("{\"v\":1")]
    public void What_is_not_a_json_object_is_refused(string text)
    {
        Assert.False(LogEntry.TryParse(Encoding.UTF8.GetBytes(text), out _));
        Assert.Null(LogEntry.TypeOf(Encoding.UTF8.GetBytes(text)));
    }

    [Fact]
    public void A_typed_reader_refuses_a_later_version_that_the_header_reader_accepts()
    {
        var v2 = Encoding.UTF8.GetBytes("""{"v":2,"type":"operator.note","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"operator","text":"x"}""");
        Assert.Equal(2, LogEntry.Parse(v2).V);
        Assert.False(OperatorNoteEntry.TryRead(v2, out _));
    }

    [Fact]
    public void The_writer_puts_the_common_members_first_and_refuses_an_entry_over_65535_bytes()
    {
        var bytes = EntryJson.Write("quota.exceeded", "key:a1b2c3d4e5f6", Golden.Id, json => json.WriteString("tags", "x"), Golden.Clock);
        Assert.Equal("""{"v":1,"type":"quota.exceeded","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"key:a1b2c3d4e5f6","tags":"x"}""", Encoding.UTF8.GetString(bytes));
        Assert.Throws<EntryTooLargeException>(() => new OperatorNoteEntry(new string('a', 70_000)).Write(Golden.Clock));
        Assert.Throws<FormatViolationException>(() => LogEntry.Parse(new byte[EntryJson.MaxEntryBytes + 1]));
    }

    [Fact]
    public void Fresh_ids_are_uuid_v7_taken_from_the_clock()
    {
        var id = Guid.Parse(EntryJson.NewId(Golden.Clock));
        Assert.Equal(7, id.Version);
        Assert.NotEqual(EntryJson.NewId(Golden.Clock), EntryJson.NewId(Golden.Clock));
    }

    [Fact]
    public void Every_catalogued_type_has_exactly_one_typed_record()
    {
        var constants = typeof(EntryTypes).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetRawConstantValue()!).ToList();
        var records = typeof(TypedEntry).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(TypedEntry)) && !t.IsAbstract)
            .Select(t => ((TypedEntry)RuntimeHelpers.GetUninitializedObject(t)).EntryType)
            .ToList();
        Assert.Equal(constants.Count, constants.Distinct().Count());
        Assert.Equal(constants.Order(StringComparer.Ordinal), records.Order(StringComparer.Ordinal));
    }
}
