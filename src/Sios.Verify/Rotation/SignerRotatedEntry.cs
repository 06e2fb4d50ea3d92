using System.Text.Json;
using Sios.Verify.Notes;

namespace Sios.Verify.Rotation;

/// <summary>
/// The body of a <c>signer.rotated</c> entry (SPEC §2): <c>old</c> and <c>new</c>, each the log's vkeys (ML-DSA-65
/// first, then the ML-DSA-44 cosignature key) before and after the rotation.
/// </summary>
/// <param name="OldKeys">The keys retired by the rotation.</param>
/// <param name="NewKeys">The keys that sign from the rotation on.</param>
public sealed record SignerRotatedEntry(IReadOnlyList<VerifierKey> OldKeys, IReadOnlyList<VerifierKey> NewKeys)
{
    /// <summary>The entry type.</summary>
    public const string Type = "signer.rotated";

    /// <summary>True when <paramref name="entry"/> is a JSON object whose <c>type</c> is <c>signer.rotated</c> (cheap pre-check; nothing else is validated).</summary>
    public static bool IsRotation(ReadOnlySpan<byte> entry)
    {
        try
        {
            var reader = new Utf8JsonReader(entry);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isType = reader.ValueTextEquals("type"u8);
                if (!reader.Read())
                {
                    return false;
                }

                if (isType)
                {
                    return reader.TokenType == JsonTokenType.String && reader.ValueTextEquals(Type);
                }

                reader.Skip();
            }

            return false;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Parses a <c>signer.rotated</c> entry; throws <see cref="FormatViolationException"/> when it is anything else or malformed.</summary>
    public static SignerRotatedEntry Parse(ReadOnlySpan<byte> entry)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(entry.ToArray());
        }
        catch (JsonException e)
        {
            throw new FormatViolationException($"the rotation entry is not JSON: {e.Message}", e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String
                || !string.Equals(type.GetString(), Type, StringComparison.Ordinal))
            {
                throw new FormatViolationException($"the entry is not a {Type} entry");
            }

            return new SignerRotatedEntry(Keys(root, "old"), Keys(root, "new"));
        }
    }

    private static List<VerifierKey> Keys(JsonElement root, string member)
    {
        if (!root.TryGetProperty(member, out var list) || list.ValueKind != JsonValueKind.Array || list.GetArrayLength() is 0 or > 8)
        {
            throw new FormatViolationException($"the {Type} entry's '{member}' is not a list of 1 to 8 vkeys");
        }

        var keys = new List<VerifierKey>();
        foreach (var item in list.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                throw new FormatViolationException($"the {Type} entry's '{member}' holds a non-string");
            }

            keys.Add(VerifierKey.Parse(item.GetString()!));
        }

        return keys;
    }
}
