using System.Text.Json;
using Sios.Verify.Entries;

namespace Sios.Ledger.Entries;

/// <summary>
/// Writes an entry from a type name and a member-writing callback, through <see cref="EntryJson"/> (the one owner of
/// the common members). For callers not yet on the typed catalogue of <see cref="EntryTypes"/>; new code writes a
/// <see cref="TypedEntry"/> instead.
/// </summary>
public static class EntryWriter
{
    /// <summary>Largest entry, fixed by the 16-bit lengths of tlog-tiles entry bundles.</summary>
    public const int MaxEntryBytes = EntryJson.MaxEntryBytes;

    /// <summary>
    /// Writes an entry of <paramref name="type"/> by <paramref name="actor"/>; <paramref name="body"/> adds the
    /// type's own members. Returns the bytes to log and the entry's UUIDv7 id.
    /// </summary>
    public static (byte[] Bytes, string Id) Write(string type, string actor, Action<Utf8JsonWriter>? body = null, TimeProvider? clock = null) =>
        Write(type, actor, NewId(clock), body, clock);

    /// <summary>A fresh UUIDv7 entry id, for a caller that must know an entry's id before writing it (commitment nonces derive from it).</summary>
    public static string NewId(TimeProvider? clock = null) => EntryJson.NewId(clock);

    /// <summary>Like <see cref="Write(string, string, Action{Utf8JsonWriter}?, TimeProvider?)"/> with an id made earlier by <see cref="NewId"/>.</summary>
    public static (byte[] Bytes, string Id) Write(string type, string actor, string id, Action<Utf8JsonWriter>? body = null, TimeProvider? clock = null) =>
        (EntryJson.Write(type, actor, id, body, clock), id);

    /// <summary>RFC 3339 UTC with milliseconds, e.g. 2026-11-26T10:00:00.123Z.</summary>
    public static string FormatTime(DateTimeOffset time) => EntryJson.FormatTime(time);
}
