using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Sios.Verify.Entries;

/// <summary>
/// The common members every entry has (SPEC §2), read from any entry whatever its type: what a reader knows of a type
/// it does not know, and the header of a typed entry it does.
/// </summary>
/// <param name="V">The format version (<c>1</c> for every entry this catalogue describes).</param>
/// <param name="Type">The entry type; see <see cref="EntryTypes"/> for the known ones.</param>
/// <param name="Id">The entry's UUID (v7 when SIOS wrote it).</param>
/// <param name="Time">When it was written, to the millisecond, UTC.</param>
/// <param name="Actor"><c>key:&lt;id&gt;</c>, <c>operator</c> or <c>system</c>.</param>
public sealed record LogEntry(int V, string Type, string Id, DateTimeOffset Time, string Actor)
{
    /// <summary>The header of <paramref name="entry"/>; throws <see cref="FormatViolationException"/> when a common member is missing or malformed.</summary>
    public static LogEntry Parse(ReadOnlySpan<byte> entry)
    {
        using var document = EntryJson.ParseObject(entry);
        return FromRoot(document.RootElement);
    }

    /// <summary>Like <see cref="Parse"/>, returning false instead of throwing.</summary>
    public static bool TryParse(ReadOnlySpan<byte> entry, [NotNullWhen(true)] out LogEntry? header)
    {
        try
        {
            header = Parse(entry);
            return true;
        }
        catch (FormatViolationException)
        {
            header = null;
            return false;
        }
    }

    /// <summary>
    /// Just the <c>type</c> of <paramref name="entry"/>, or null when it has none: the reader stops at it, so a scan over
    /// many large entries for a few types stays cheap. Nothing else is validated.
    /// </summary>
    public static string? TypeOf(ReadOnlySpan<byte> entry)
    {
        try
        {
            var reader = new Utf8JsonReader(entry);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isType = reader.ValueTextEquals("type"u8);
                if (!reader.Read())
                {
                    return null;
                }

                if (isType)
                {
                    return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }

                reader.Skip();
            }
        }
        catch (JsonException)
        {
            return null;
        }

        return null;
    }

    internal static LogEntry FromRoot(JsonElement root)
    {
        var members = new EntryMembers(root, "entry");
        var v = members.Int32("v");
        if (v < 1)
        {
            throw members.Invalid($"has version {v}");
        }

        var type = members.String("type");
        if (type.Length == 0)
        {
            throw members.Invalid("has an empty 'type'");
        }

        var where = new EntryMembers(root, $"{type} entry");
        var id = where.String("id");
        if (!Guid.TryParseExact(id, "D", out _))
        {
            throw where.Invalid($"has the id '{id}', which is not a UUID");
        }

        var time = where.String("time");
        if (!EntryJson.TryParseTime(time, out var at))
        {
            throw where.Invalid($"has the time '{time}', which is not RFC 3339 UTC with milliseconds");
        }

        var actor = where.String("actor");
        if (actor.Length == 0)
        {
            throw where.Invalid("has an empty 'actor'");
        }

        return new LogEntry(v, type, id, at, actor);
    }
}
