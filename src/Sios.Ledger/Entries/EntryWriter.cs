using System.Globalization;
using System.Text.Json;

namespace Sios.Ledger.Entries;

/// <summary>Builds SPEC §2 entries: one compact UTF-8 JSON object with the common members first.</summary>
public static class EntryWriter
{
    /// <summary>Largest entry, fixed by the 16-bit lengths of tlog-tiles entry bundles.</summary>
    public const int MaxEntryBytes = 65_535;

    /// <summary>
    /// Writes an entry of <paramref name="type"/> by <paramref name="actor"/>; <paramref name="body"/> adds the
    /// type's own members. Returns the bytes to log and the entry's UUIDv7 id.
    /// </summary>
    public static (byte[] Bytes, string Id) Write(string type, string actor, Action<Utf8JsonWriter>? body = null, TimeProvider? clock = null) =>
        Write(type, actor, NewId(clock), body, clock);

    /// <summary>A fresh UUIDv7 entry id, for a caller that must know an entry's id before writing it (commitment nonces derive from it).</summary>
    public static string NewId(TimeProvider? clock = null) =>
        Guid.CreateVersion7((clock ?? TimeProvider.System).GetUtcNow()).ToString("D", CultureInfo.InvariantCulture);

    /// <summary>Like <see cref="Write(string, string, Action{Utf8JsonWriter}?, TimeProvider?)"/> with an id made earlier by <see cref="NewId"/>.</summary>
    public static (byte[] Bytes, string Id) Write(string type, string actor, string id, Action<Utf8JsonWriter>? body = null, TimeProvider? clock = null)
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

        return (bytes, id);
    }

    /// <summary>RFC 3339 UTC with milliseconds, e.g. 2026-11-26T10:00:00.123Z.</summary>
    public static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
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
