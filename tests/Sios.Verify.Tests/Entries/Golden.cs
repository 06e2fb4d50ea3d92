using System.Text;
using Sios.Verify.Entries;

namespace Sios.Verify.Tests.Entries;

/// <summary>Reads one catalogued type from bytes (a method group such as <c>KeyRevokedEntry.Read</c>).</summary>
internal delegate LoggedEntry<T> EntryReader<T>(ReadOnlySpan<byte> entry) where T : TypedEntry;

/// <summary>
/// The golden-entry checks shared by the catalogue tests: a fixed clock and id give exactly the expected bytes (those the
/// writers produced before the catalogue), and the reader gives back a record that writes them again.
/// </summary>
internal static class Golden
{
    public const string Id = "0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01";

    public static readonly DateTimeOffset Now = new(2026, 11, 26, 10, 0, 0, 123, TimeSpan.Zero);

    public static TimeProvider Clock { get; } = new FixedClock(Now);

    /// <summary>Writes <paramref name="entry"/>, checks the bytes, reads them back and checks the header and the round trip.</summary>
    public static LoggedEntry<T> Check<T>(TypedEntry entry, string expected, EntryReader<T> read) where T : TypedEntry
    {
        var bytes = entry.Write(Id, Clock);
        Assert.Equal(expected, Encoding.UTF8.GetString(bytes));
        var parsed = read(bytes);
        Assert.Equal(new LogEntry(1, entry.EntryType, Id, Now, entry.Actor), parsed.Header);
        Assert.Equal(expected, Encoding.UTF8.GetString(parsed.Body.Write(parsed.Header.Id, new FixedClock(parsed.Header.Time))));

        // A newer writer's extra members are ignored, wherever they are, and do not change what is read.
        var extended = "{\"future\":{\"x\":[1,2]}," + expected[1..^1] + ",\"zzz\":null}";
        Assert.Equal(expected, Encoding.UTF8.GetString(read(Encoding.UTF8.GetBytes(extended)).Body.Write(Id, Clock)));
        return parsed;
    }

    /// <summary>Checks that <paramref name="expected"/> without <paramref name="member"/> (its exact text, comma included) is refused.</summary>
    public static void RefusedWithout<T>(string expected, string member, EntryReader<T> read) where T : TypedEntry
    {
        Assert.Contains(member, expected, StringComparison.Ordinal);
        var without = Encoding.UTF8.GetBytes(expected.Replace(member, "", StringComparison.Ordinal));
        Assert.Throws<FormatViolationException>(() => read(without));
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
