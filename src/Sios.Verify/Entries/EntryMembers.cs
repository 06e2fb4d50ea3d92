using System.Text.Json;

namespace Sios.Verify.Entries;

/// <summary>
/// Reads the members of one entry (or of an object inside it) for a typed reader: a required member that is missing or
/// of the wrong kind is a <see cref="FormatViolationException"/> naming it; members nobody asks for are ignored, so
/// newer writers may add them. An explicit <c>null</c> counts as absent.
/// </summary>
internal readonly struct EntryMembers(JsonElement element, string where)
{
    public bool Has(string name) => Find(name) is not null;

    public string String(string name) => OptionalString(name) ?? throw Missing(name, "a string");

    public string? OptionalString(string name) => Find(name) is { } value
        ? value.ValueKind == JsonValueKind.String ? value.GetString() : throw Missing(name, "a string")
        : null;

    public long Int64(string name) => OptionalInt64(name) ?? throw Missing(name, "an integer");

    public long? OptionalInt64(string name) => Find(name) is { } value
        ? value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) ? number : throw Missing(name, "an integer")
        : null;

    public int Int32(string name) => OptionalInt32(name) ?? throw Missing(name, "a 32-bit integer");

    public int? OptionalInt32(string name) => Find(name) is { } value
        ? value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) ? number : throw Missing(name, "a 32-bit integer")
        : null;

    public uint? OptionalUInt32(string name) => Find(name) is { } value
        ? value.ValueKind == JsonValueKind.Number && value.TryGetUInt32(out var number) ? number : throw Missing(name, "an unsigned 32-bit integer")
        : null;

    public float? OptionalSingle(string name) => Find(name) is { } value
        ? value.ValueKind == JsonValueKind.Number && value.TryGetSingle(out var number) && float.IsFinite(number) ? number : throw Missing(name, "a number")
        : null;

    public bool Boolean(string name) => Find(name)?.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw Missing(name, "true or false"),
    };

    public IReadOnlyList<string> Strings(string name)
    {
        var list = Find(name) is { ValueKind: JsonValueKind.Array } array ? array : throw Missing(name, "a list of strings");
        var strings = new List<string>(list.GetArrayLength());
        foreach (var item in list.EnumerateArray())
        {
            strings.Add(item.ValueKind == JsonValueKind.String ? item.GetString()! : throw Missing(name, "a list of strings"));
        }

        return strings;
    }

    public EntryMembers Object(string name) => OptionalObject(name) ?? throw Missing(name, "an object");

    public EntryMembers? OptionalObject(string name) => Find(name) is { } value
        ? value.ValueKind == JsonValueKind.Object ? new EntryMembers(value, $"{where}'s '{name}'") : throw Missing(name, "an object")
        : null;

    public IReadOnlyList<EntryMembers> Objects(string name)
    {
        var list = Find(name) is { ValueKind: JsonValueKind.Array } array ? array : throw Missing(name, "a list of objects");
        var objects = new List<EntryMembers>(list.GetArrayLength());
        var at = 0;
        foreach (var item in list.EnumerateArray())
        {
            objects.Add(item.ValueKind == JsonValueKind.Object ? new EntryMembers(item, $"{where}'s '{name}'[{at++}]") : throw Missing(name, "a list of objects"));
        }

        return objects;
    }

    /// <summary>A violation naming this object and <paramref name="problem"/>.</summary>
    public FormatViolationException Invalid(string problem) => new($"the {where} {problem}");

    private JsonElement? Find(string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private FormatViolationException Missing(string name, string what) => Invalid($"has no '{name}' that is {what}");
}
