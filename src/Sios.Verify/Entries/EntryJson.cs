using System.Globalization;
using System.Text.Json;

namespace Sios.Verify.Entries;

/// <summary>
/// The one writer of the SPEC §2 common members (<c>v</c>, <c>type</c>, <c>id</c>, <c>time</c>, <c>actor</c>, in that
/// order, first): every entry SIOS writes goes through <see cref="Write"/>, so no two writers can disagree on them.
/// </summary>
public static class EntryJson
{
    /// <summary>Largest entry, fixed by the 16-bit lengths of tlog-tiles entry bundles.</summary>
    public const int MaxEntryBytes = 65_535;

    private const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    /// <summary>A fresh UUIDv7 entry id, for a caller that must know an entry's id before writing it (commitment nonces derive from it).</summary>
    public static string NewId(TimeProvider? clock = null) =>
        Guid.CreateVersion7((clock ?? TimeProvider.System).GetUtcNow()).ToString("D", CultureInfo.InvariantCulture);

    /// <summary>RFC 3339 UTC with milliseconds, e.g. 2026-11-26T10:00:00.123Z.</summary>
    public static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    /// <summary>
    /// One compact UTF-8 JSON object: the common members, then what <paramref name="body"/> adds. The bytes are final:
    /// they are what is logged and hashed, so the writer's options (default escaping) are part of the wire format.
    /// </summary>
    /// <exception cref="EntryTooLargeException">The entry would exceed <see cref="MaxEntryBytes"/>.</exception>
    public static byte[] Write(string type, string actor, string id, Action<Utf8JsonWriter>? body, TimeProvider? clock = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(type);
        ArgumentException.ThrowIfNullOrEmpty(actor);
        ArgumentException.ThrowIfNullOrEmpty(id);
        var now = (clock ?? TimeProvider.System).GetUtcNow();
        using var buffer = new MemoryStream(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("v", 1);
            json.WriteString("type", type);
            json.WriteString("id", id);
            json.WriteString("time", FormatTime(now));
            json.WriteString("actor", actor);
            body?.Invoke(json);
            json.WriteEndObject();
        }

        var bytes = buffer.ToArray();
        if (bytes.Length > MaxEntryBytes)
        {
            throw new EntryTooLargeException($"the {type} entry is {bytes.Length} bytes; entries are at most {MaxEntryBytes} bytes");
        }

        return bytes;
    }

    /// <summary>Parses an RFC 3339 UTC millisecond time exactly as <see cref="FormatTime"/> writes it.</summary>
    internal static bool TryParseTime(string text, out DateTimeOffset time) =>
        DateTimeOffset.TryParseExact(text, TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);

    /// <summary>Parses an entry as a JSON object, refusing anything larger than an entry can be.</summary>
    internal static JsonDocument ParseObject(ReadOnlySpan<byte> entry)
    {
        if (entry.Length is 0 or > MaxEntryBytes)
        {
            throw new FormatViolationException($"an entry is 1 to {MaxEntryBytes} bytes, not {entry.Length}");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(entry.ToArray());
        }
        catch (JsonException e)
        {
            throw new FormatViolationException($"the entry is not JSON: {e.Message}", e);
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            throw new FormatViolationException("the entry is not a JSON object");
        }

        return document;
    }
}

/// <summary>An entry would exceed the 65,535-byte limit.</summary>
public sealed class EntryTooLargeException : Exception
{
    /// <summary>Creates the exception.</summary>
    public EntryTooLargeException(string message) : base(message) { }

    /// <summary>Creates the exception with no message.</summary>
    public EntryTooLargeException() { }

    /// <summary>Creates the exception with a cause.</summary>
    public EntryTooLargeException(string message, Exception inner) : base(message, inner) { }
}
