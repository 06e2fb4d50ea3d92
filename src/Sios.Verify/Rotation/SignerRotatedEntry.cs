using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Sios.Verify.Entries;
using Sios.Verify.Notes;

namespace Sios.Verify.Rotation;

/// <summary>
/// <c>signer.rotated</c> (SPEC §2), by the operator: <c>old</c> and <c>new</c>, each the log's vkeys (ML-DSA-65 first,
/// then the ML-DSA-44 cosignature key) before and after the rotation. Part of the entry catalogue
/// (<see cref="EntryTypes"/>); it lives beside <see cref="SignerKeyChain"/>, its one reader.
/// </summary>
/// <param name="OldKeys">The keys retired by the rotation.</param>
/// <param name="NewKeys">The keys that sign from the rotation on.</param>
public sealed record SignerRotatedEntry(IReadOnlyList<VerifierKey> OldKeys, IReadOnlyList<VerifierKey> NewKeys) : TypedEntry(EntryActors.Operator)
{
    /// <summary>The entry type.</summary>
    public const string Type = EntryTypes.SignerRotated;

    /// <inheritdoc/>
    public override string EntryType => Type;

    /// <summary>True when <paramref name="entry"/> is a JSON object whose <c>type</c> is <c>signer.rotated</c> (cheap pre-check; nothing else is validated).</summary>
    public static bool IsRotation(ReadOnlySpan<byte> entry) => string.Equals(LogEntry.TypeOf(entry), Type, StringComparison.Ordinal);

    /// <summary>The body of a <c>signer.rotated</c> entry; throws <see cref="FormatViolationException"/> when it is anything else or malformed.</summary>
    public static SignerRotatedEntry Parse(ReadOnlySpan<byte> entry) => Read(entry).Body;

    /// <summary>Parses a <c>signer.rotated</c> entry with its header; throws <see cref="FormatViolationException"/> when it is not one.</summary>
    public static LoggedEntry<SignerRotatedEntry> Read(ReadOnlySpan<byte> entry) => ReadAs(entry, Type, Body);

    /// <summary>Like <see cref="Read"/>, returning false instead of throwing.</summary>
    public static bool TryRead(ReadOnlySpan<byte> entry, [NotNullWhen(true)] out LoggedEntry<SignerRotatedEntry>? read) => TryReadAs(entry, Type, Body, out read);

    private protected override void WriteMembers(Utf8JsonWriter json)
    {
        WriteKeys(json, "old", OldKeys);
        WriteKeys(json, "new", NewKeys);
    }

    private static void WriteKeys(Utf8JsonWriter json, string member, IReadOnlyList<VerifierKey> keys)
    {
        json.WriteStartArray(member);
        foreach (var key in keys)
        {
            json.WriteStringValue(key.ToString());
        }

        json.WriteEndArray();
    }

    private static SignerRotatedEntry Body(LogEntry header, EntryMembers m) => new(Keys(m, "old"), Keys(m, "new")) { Actor = header.Actor };

    private static List<VerifierKey> Keys(EntryMembers m, string member)
    {
        var vkeys = m.Strings(member);
        if (vkeys.Count is 0 or > 8)
        {
            throw m.Invalid($"has a '{member}' that is not a list of 1 to 8 vkeys");
        }

        return [.. vkeys.Select(VerifierKey.Parse)];
    }
}
