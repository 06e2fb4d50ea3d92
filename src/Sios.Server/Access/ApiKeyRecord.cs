namespace Sios.Server.Access;

/// <summary>One API key as the operator's store holds it: its scope and the SHA-256 of its secret, never the secret.</summary>
public sealed record ApiKeyRecord
{
    /// <summary>Random, 12 lower-case hex characters; the log's actor for the key's requests is <c>key:</c> + Id.</summary>
    public required string Id { get; init; }

    /// <summary>The operator's label, <c>[a-z0-9][a-z0-9._-]{0,63}</c>, unique among keys not revoked.</summary>
    public required string Name { get; init; }

    /// <summary>What the key may do beyond inference on its brains.</summary>
    public required ApiKeyRole Role { get; init; }

    /// <summary>The brains the key may use, by name, or exactly <c>["*"]</c> for every brain.</summary>
    public required IReadOnlyList<string> Brains { get; init; }

    /// <summary>When the key was created.</summary>
    public required DateTimeOffset Created { get; init; }

    /// <summary>When the key was revoked; null while it is live.</summary>
    public DateTimeOffset? Revoked { get; init; }

    /// <summary>Lower-case hex SHA-256 of the secret's UTF-8 bytes.</summary>
    public required string SecretSha256 { get; init; }

    /// <summary>Requests per minute the key may make; null for no limit of its own (recorded, not yet enforced).</summary>
    public int? Rpm { get; init; }

    /// <summary>Tokens per minute the key may use; null for no limit of its own (recorded, not yet enforced).</summary>
    public int? Tpm { get; init; }

    /// <summary>True once the key is revoked.</summary>
    public bool IsRevoked => Revoked is not null;

    /// <summary>The identity an authenticated request with this key acts as.</summary>
    public ApiPrincipal ToPrincipal() => new(Id, Name, Role, Brains, Rpm, Tpm);
}

/// <summary>The identity of an authenticated request: the key it presented and that key's scope.</summary>
/// <param name="KeyId">The key's id.</param>
/// <param name="Name">The key's name.</param>
/// <param name="Role">The key's role.</param>
/// <param name="Brains">The brains in scope, or exactly <c>["*"]</c> for every brain.</param>
/// <param name="Rpm">Requests per minute allowed, or null for no limit.</param>
/// <param name="Tpm">Tokens (prompt plus completion) per minute allowed, or null for no limit.</param>
public sealed record ApiPrincipal(string KeyId, string Name, ApiKeyRole Role, IReadOnlyList<string> Brains, int? Rpm = null, int? Tpm = null)
{
    /// <summary>The scope entry that stands for every brain.</summary>
    public const string AllBrains = "*";

    /// <summary>The <c>actor</c> of log entries made for this key (SPEC §2).</summary>
    public string Actor => "key:" + KeyId;

    /// <summary>True when the key may read the whole log over HTTP (<c>/log/</c>).</summary>
    public bool MayAudit => Role is ApiKeyRole.Auditor or ApiKeyRole.Admin;

    /// <summary>True when <paramref name="brain"/> is in the key's scope.</summary>
    public bool MayUse(string brain)
    {
        ArgumentNullException.ThrowIfNull(brain);
        foreach (var allowed in Brains)
        {
            if (allowed == AllBrains || string.Equals(allowed, brain, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
