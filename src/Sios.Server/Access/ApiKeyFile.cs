using System.Text.Json;
using System.Text.Json.Serialization;
using Sios.Brains.Registry;
using Sios.Verify;

namespace Sios.Server.Access;

/// <summary>
/// The rules every key record obeys, and the JSON form of <c>api-keys.json</c>. The file is read strictly: a record
/// that breaks a rule, or a member this version does not know, makes the whole file unusable rather than half-read,
/// because a silently dropped <c>revoked</c> would bring a revoked key back to life.
/// </summary>
internal static class ApiKeyFile
{
    /// <summary>Format 2 added <c>as_of</c> and <c>mac</c> (see <see cref="Sios.Ledger.State.StateFileAuthority"/>).</summary>
    public const int CurrentFormat = 2;

    /// <summary>The format written before state files were authenticated: read only for <c>sios state adopt</c>.</summary>
    public const int UnauthenticatedFormat = 1;

    /// <summary>The kind the MAC binds, so a brain registry's MAC can never pass for a key file's.</summary>
    public const string Kind = "api-keys";
    public const int IdLength = 12;
    public const int HashHexLength = 64;

    public static bool IsValidName(string? name)
    {
        if (name is null || name.Length is 0 or > 64 || !(char.IsAsciiLetterLower(name[0]) || char.IsAsciiDigit(name[0])))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    public static bool IsLowerHex(string? text, int length)
    {
        if (text is null || text.Length != length)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!(char.IsAsciiDigit(c) || c is >= 'a' and <= 'f'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Every rule a record must satisfy, as messages; empty when it is valid.</summary>
    public static List<string> Problems(ApiKeyRecord key)
    {
        var problems = new List<string>();
        if (!IsValidName(key.Name))
        {
            problems.Add($"the name '{key.Name}' is not valid: use 1 to 64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit");
        }

        if (!IsLowerHex(key.Id, IdLength))
        {
            problems.Add($"the id '{key.Id}' is not {IdLength} lower-case hex characters");
        }

        if (!Enum.IsDefined(key.Role))
        {
            problems.Add($"the role {(int)key.Role} is not one of {string.Join(", ", ApiKeyRoleNames.All)}");
        }

        problems.AddRange(BrainProblems(key.Brains));
        if (!IsLowerHex(key.SecretSha256, HashHexLength))
        {
            problems.Add($"the secret's hash is not {HashHexLength} lower-case hex characters");
        }

        if (key.Rpm is <= 0 || key.Tpm is <= 0)
        {
            problems.Add("a requests- or tokens-per-minute limit must be at least 1 (or absent for none)");
        }

        if (key.Revoked is { } revoked && revoked < key.Created)
        {
            problems.Add("the key is revoked before it was created");
        }

        return problems;
    }

    public static IEnumerable<string> BrainProblems(IReadOnlyList<string>? brains)
    {
        if (brains is null || brains.Count == 0)
        {
            yield return $"the scope names no brain: list brain names, or '{ApiPrincipal.AllBrains}' for every brain";
            yield break;
        }

        if (brains.Contains(ApiPrincipal.AllBrains, StringComparer.Ordinal))
        {
            if (brains.Count > 1)
            {
                yield return $"'{ApiPrincipal.AllBrains}' already means every brain; give it alone";
            }

            yield break;
        }

        foreach (var brain in brains)
        {
            if (!BrainManifest.IsValidName(brain))
            {
                yield return $"'{brain}' is not a brain name";
            }
        }

        if (brains.GroupBy(b => b, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            yield return $"the scope names brain '{twice.Key}' twice";
        }
    }

    /// <summary>The bytes a MAC covers: the file as it would be written, without its MAC.</summary>
    public static byte[] Body(StoredKeys file) =>
        JsonSerializer.SerializeToUtf8Bytes(new StoredKeys { Format = file.Format, AsOf = file.AsOf, Keys = file.Keys }, StoredKeysJson.Default.StoredKeys);

    public static List<ApiKeyRecord> Parse(ReadOnlySpan<byte> bytes, string path) => Parse(bytes, path, out _);

    public static List<ApiKeyRecord> Parse(ReadOnlySpan<byte> bytes, string path, out StoredKeys whole)
    {
        StoredKeys? file;
        try
        {
            file = JsonSerializer.Deserialize(bytes, StoredKeysJson.Default.StoredKeys);
        }
        catch (JsonException e)
        {
            throw new FormatViolationException($"{path} is not a valid API key file: {e.Message}", e);
        }

        if (file is null || file.Format is not (CurrentFormat or UnauthenticatedFormat) || (file.Format == UnauthenticatedFormat && (file.AsOf is not null || file.Mac is not null)))
        {
            throw new FormatViolationException($"{path} is not a format-{CurrentFormat} API key file");
        }

        whole = file;

        var keys = new List<ApiKeyRecord>(file.Keys.Count);
        foreach (var stored in file.Keys)
        {
            if (!ApiKeyRoleNames.TryParse(stored.Role, out var role))
            {
                throw new FormatViolationException($"{path}: key '{stored.Name}' has an unknown role '{stored.Role}'");
            }

            var key = new ApiKeyRecord
            {
                Id = stored.Id,
                Name = stored.Name,
                Role = role,
                Brains = [.. stored.Brains],
                Created = stored.Created,
                Revoked = stored.Revoked,
                SecretSha256 = stored.SecretSha256,
                Rpm = stored.Rpm,
                Tpm = stored.Tpm,
            };
            var problems = Problems(key);
            if (problems.Count > 0)
            {
                throw new FormatViolationException($"{path}: key '{stored.Name}' is invalid: {string.Join("; ", problems)}");
            }

            keys.Add(key);
        }

        if (keys.GroupBy(k => k.Id, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } sameId)
        {
            throw new FormatViolationException($"{path} lists key id {sameId.Key} more than once");
        }

        if (keys.Where(k => !k.IsRevoked).GroupBy(k => k.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } sameName)
        {
            throw new FormatViolationException($"{path} has more than one live key named '{sameName.Key}'");
        }

        return keys;
    }

    /// <summary>The file for <paramref name="keys"/>, recording <paramref name="asOf"/> and MAC'd by <paramref name="mac"/> when given.</summary>
    public static byte[] Serialize(IEnumerable<ApiKeyRecord> keys, long? asOf = null, Func<byte[], string>? mac = null)
    {
        var file = new StoredKeys
        {
            AsOf = asOf,
            Keys = [.. keys.Select(k => new StoredKey
            {
                Id = k.Id,
                Name = k.Name,
                Role = ApiKeyRoleNames.ToName(k.Role),
                Brains = [.. k.Brains],
                Created = k.Created,
                Revoked = k.Revoked,
                SecretSha256 = k.SecretSha256,
                Rpm = k.Rpm,
                Tpm = k.Tpm,
            })],
        };
        return mac is null
            ? JsonSerializer.SerializeToUtf8Bytes(file, StoredKeysJson.Default.StoredKeys)
            : JsonSerializer.SerializeToUtf8Bytes(new StoredKeys { Format = file.Format, AsOf = asOf, Keys = file.Keys, Mac = mac(Body(file)) }, StoredKeysJson.Default.StoredKeys);
    }
}

/// <summary>The contents of <c>api-keys.json</c>.</summary>
internal sealed class StoredKeys
{
    public int Format { get; init; } = ApiKeyFile.CurrentFormat;

    /// <summary>The log's size when the file was written: every key entry from there on must be reflected in it.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? AsOf { get; init; }

    public List<StoredKey> Keys { get; init; } = [];

    /// <summary>The state-file MAC over everything above; absent in files written without the master secret.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Mac { get; init; }
}

/// <summary>One key in <c>api-keys.json</c>; the role as its name so the file reads plainly.</summary>
internal sealed class StoredKey
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    public required string Role { get; init; }

    public required List<string> Brains { get; init; }

    public required DateTimeOffset Created { get; init; }

    public required DateTimeOffset? Revoked { get; init; }

    public required string SecretSha256 { get; init; }

    public required int? Rpm { get; init; }

    public required int? Tpm { get; init; }
}

// Unknown members are refused, not dropped: a newer SIOS's fields would otherwise vanish on the next write.
[JsonSourceGenerationOptions(
    WriteIndented = true,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    RespectNullableAnnotations = true)]
[JsonSerializable(typeof(StoredKeys))]
internal sealed partial class StoredKeysJson : JsonSerializerContext;
