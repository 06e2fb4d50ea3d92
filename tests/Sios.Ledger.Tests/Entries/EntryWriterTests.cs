using System.Text;
using System.Text.Json;
using Sios.Ledger.Entries;
using Sios.Verify.Entries;

namespace Sios.Ledger.Tests.Entries;

public sealed class EntryWriterTests
{
    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    [Fact]
    public void Entries_are_compact_json_with_the_common_members_first()
    {
        var clock = new FixedClock(new DateTimeOffset(2026, 11, 26, 10, 0, 0, 123, TimeSpan.Zero));
        var (bytes, id) = EntryWriter.Write("operator.note", "operator", j => j.WriteString("text", "hé \"quoted\""), clock);
        var text = Encoding.UTF8.GetString(bytes);
        Assert.StartsWith($"{{\"v\":1,\"type\":\"operator.note\",\"id\":\"{id}\",\"time\":\"2026-11-26T10:00:00.123Z\",\"actor\":\"operator\",", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", text, StringComparison.Ordinal);
        Assert.False(bytes.AsSpan().StartsWith(new byte[] { 0xef, 0xbb, 0xbf }));
        using var doc = JsonDocument.Parse(bytes);
        Assert.Equal("hé \"quoted\"", doc.RootElement.GetProperty("text").GetString());
        Assert.Equal(7, Guid.Parse(id).Version);
    }

    [Fact]
    public void Ids_are_unique_and_time_ordered()
    {
        var ids = Enumerable.Range(0, 1000).Select(_ => EntryWriter.Write("operator.note", "operator").Id).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public void An_entry_over_65535_bytes_is_refused()
    {
        var e = Assert.Throws<EntryTooLargeException>(() => EntryWriter.Write("operator.note", "operator", j => j.WriteString("text", new string('a', 70_000))));
        Assert.Contains("65535", e.Message.Replace(",", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }
}
