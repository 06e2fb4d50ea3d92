using Sios.Verify.Entries;

namespace Sios.Server.Access;

/// <summary>
/// The SPEC §2 <c>key.created</c> and <c>key.revoked</c> entries, by the operator, built from key records onto the typed
/// catalogue. They name the key (id and label) and its scope (role, brains, limits); the secret and its hash never
/// appear, so the log cannot help anyone guess it.
/// </summary>
public static class ApiKeyEntries
{
    /// <summary>The actor of key changes made through the CLI or the control socket: the operator.</summary>
    public const string Actor = EntryActors.Operator;

    /// <summary><c>key.created</c>: key_id, name, role, brains, and rpm/tpm when set; by <paramref name="actor"/> (an admin key's <c>key:ID</c> over HTTP).</summary>
    public static byte[] Created(ApiKeyRecord key, TimeProvider? clock = null, string actor = Actor) => new KeyCreatedEntry(Scope(key)) { Actor = actor }.Write(clock);

    /// <summary><c>key.revoked</c>: the same members, naming the scope that stops working.</summary>
    public static byte[] Revoked(ApiKeyRecord key, TimeProvider? clock = null, string actor = Actor) => new KeyRevokedEntry(Scope(key)) { Actor = actor }.Write(clock);

    /// <summary>How the log names <paramref name="key"/>: everything but its secret.</summary>
    public static KeyScope Scope(ApiKeyRecord key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return new KeyScope(key.Id, key.Name, ApiKeyRoleNames.ToName(key.Role), key.Brains, key.Rpm, key.Tpm);
    }
}
