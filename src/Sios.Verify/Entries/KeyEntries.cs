using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Sios.Verify.Entries;

/// <summary>
/// An API key as <c>key.created</c> and <c>key.revoked</c> name it: id, label and scope. The secret and its hash never
/// appear, so the log cannot help anyone guess it.
/// </summary>
/// <param name="KeyId">The key's id (its requests' actor is <c>key:</c> + id).</param>
/// <param name="Name">The operator's label.</param>
/// <param name="Role"><c>user</c>, <c>auditor</c> or <c>admin</c>.</param>
/// <param name="Brains">The brains in scope (<c>*</c> for all).</param>
/// <param name="Rpm">The requests-per-minute limit, when set.</param>
/// <param name="Tpm">The tokens-per-minute limit, when set.</param>
public sealed record KeyScope(string KeyId, string Name, string Role, IReadOnlyList<string> Brains, int? Rpm = null, int? Tpm = null)
{
    internal void Write(Utf8JsonWriter json)
    {
        json.WriteString("key_id", KeyId);
        json.WriteString("name", Name);
        json.WriteString("role", Role);
        json.WriteStartArray("brains");
        foreach (var brain in Brains)
        {
            json.WriteStringValue(brain);
        }

        json.WriteEndArray();
        if (Rpm is { } rpm)
        {
            json.WriteNumber("rpm", rpm);
        }

        if (Tpm is { } tpm)
        {
            json.WriteNumber("tpm", tpm);
        }
    }

    internal static KeyScope Read(EntryMembers m) =>
        new(m.String("key_id"), m.String("name"), m.String("role"), m.Strings("brains"), m.OptionalInt32("rpm"), m.OptionalInt32("tpm"));
}

/// <summary><c>key.created</c>: a new API key and its scope, by the operator.</summary>
/// <param name="Key">The key.</param>
public sealed record KeyCreatedEntry(KeyScope Key) : TypedEntry(EntryActors.Operator)
{
    /// <inheritdoc/>
    public override string EntryType => EntryTypes.KeyCreated;

    /// <summary>Parses a <c>key.created</c> entry; throws <see cref="FormatViolationException"/> when it is not one.</summary>
    public static LoggedEntry<KeyCreatedEntry> Read(ReadOnlySpan<byte> entry) => ReadAs(entry, EntryTypes.KeyCreated, Body);

    /// <summary>Like <see cref="Read"/>, returning false instead of throwing.</summary>
    public static bool TryRead(ReadOnlySpan<byte> entry, [NotNullWhen(true)] out LoggedEntry<KeyCreatedEntry>? read) => TryReadAs(entry, EntryTypes.KeyCreated, Body, out read);

    private protected override void WriteMembers(Utf8JsonWriter json) => Key.Write(json);

    private static KeyCreatedEntry Body(LogEntry header, EntryMembers m) => new(KeyScope.Read(m)) { Actor = header.Actor };
}

/// <summary><c>key.revoked</c>: the key whose scope stops working, by the operator; its time is when it stopped.</summary>
/// <param name="Key">The key.</param>
public sealed record KeyRevokedEntry(KeyScope Key) : TypedEntry(EntryActors.Operator)
{
    /// <inheritdoc/>
    public override string EntryType => EntryTypes.KeyRevoked;

    /// <summary>Parses a <c>key.revoked</c> entry; throws <see cref="FormatViolationException"/> when it is not one.</summary>
    public static LoggedEntry<KeyRevokedEntry> Read(ReadOnlySpan<byte> entry) => ReadAs(entry, EntryTypes.KeyRevoked, Body);

    /// <summary>Like <see cref="Read"/>, returning false instead of throwing.</summary>
    public static bool TryRead(ReadOnlySpan<byte> entry, [NotNullWhen(true)] out LoggedEntry<KeyRevokedEntry>? read) => TryReadAs(entry, EntryTypes.KeyRevoked, Body, out read);

    private protected override void WriteMembers(Utf8JsonWriter json) => Key.Write(json);

    private static KeyRevokedEntry Body(LogEntry header, EntryMembers m) => new(KeyScope.Read(m)) { Actor = header.Actor };
}
