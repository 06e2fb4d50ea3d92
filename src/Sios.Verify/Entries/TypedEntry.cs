using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Sios.Verify.Entries;

/// <summary>
/// An entry of one catalogued type: its own members and its actor. <see cref="Write(TimeProvider?)"/> turns it into
/// the logged bytes through <see cref="EntryJson"/>; each type's static <c>Read</c>/<c>TryRead</c> turns bytes back into
/// it, strict on the members it holds and tolerant of any others. Only this assembly defines types, so the catalogue
/// stays the one list of what SIOS writes.
/// </summary>
public abstract record TypedEntry
{
    private protected TypedEntry(string actor) => Actor = actor;

    /// <summary>The entry's <c>type</c> member (one of <see cref="EntryTypes"/>).</summary>
    public abstract string EntryType { get; }

    /// <summary>The entry's <c>actor</c> member.</summary>
    public string Actor { get; init; }

    /// <summary>The entry's bytes, with a fresh UUIDv7 id and the time now on <paramref name="clock"/>.</summary>
    public byte[] Write(TimeProvider? clock = null) => Write(EntryJson.NewId(clock), clock);

    /// <summary>The entry's bytes under an id made earlier by <see cref="EntryJson.NewId"/> (when nonces derive from it).</summary>
    public byte[] Write(string id, TimeProvider? clock = null) => EntryJson.Write(EntryType, Actor, id, WriteMembers, clock);

    /// <summary>Writes the type's own members, in their fixed order.</summary>
    private protected abstract void WriteMembers(Utf8JsonWriter json);

    /// <summary>Parses an entry of <paramref name="type"/>; <paramref name="body"/> builds the record from its header and members.</summary>
    private protected static LoggedEntry<T> ReadAs<T>(ReadOnlySpan<byte> entry, string type, Func<LogEntry, EntryMembers, T> body)
        where T : TypedEntry
    {
        using var document = EntryJson.ParseObject(entry);
        var header = LogEntry.FromRoot(document.RootElement);
        if (!string.Equals(header.Type, type, StringComparison.Ordinal))
        {
            throw new FormatViolationException($"the entry is of type '{header.Type}', not '{type}'");
        }

        if (header.V != 1)
        {
            throw new FormatViolationException($"the {type} entry has version {header.V}; this reader knows version 1");
        }

        return new LoggedEntry<T>(header, body(header, new EntryMembers(document.RootElement, type + " entry")));
    }

    /// <summary>Like <see cref="ReadAs{T}"/>, returning false instead of throwing.</summary>
    private protected static bool TryReadAs<T>(ReadOnlySpan<byte> entry, string type, Func<LogEntry, EntryMembers, T> body, [NotNullWhen(true)] out LoggedEntry<T>? read)
        where T : TypedEntry
    {
        try
        {
            read = ReadAs(entry, type, body);
            return true;
        }
        catch (FormatViolationException)
        {
            read = null;
            return false;
        }
    }
}

/// <summary>A typed entry as read from the log: its common members and its own.</summary>
/// <param name="Header">The common members (id, time, actor, ...).</param>
/// <param name="Body">The typed record; writing it under the header's id and time gives back the bytes SIOS wrote.</param>
public sealed record LoggedEntry<T>(LogEntry Header, T Body) where T : TypedEntry;
