using System.Text.Json;
using Sios.Ledger.Entries;

namespace Sios.Server.Access;

/// <summary>
/// The SPEC §2 <c>key.created</c> and <c>key.revoked</c> entries, by the operator. They name the key (id and label) and
/// its scope (role, brains, limits); the secret and its hash never appear, so the log cannot help anyone guess it.
/// </summary>
public static class ApiKeyEntries
{
    /// <summary>The actor of key changes: the operator, whether through the CLI or the control socket.</summary>
    public const string Actor = "operator";

    /// <summary><c>key.created</c>: key_id, name, role, brains, and rpm/tpm when set.</summary>
    public static byte[] Created(ApiKeyRecord key, TimeProvider? clock = null) => Write("key.created", key, clock);

    /// <summary><c>key.revoked</c>: the same members, naming the scope that stops working.</summary>
    public static byte[] Revoked(ApiKeyRecord key, TimeProvider? clock = null) => Write("key.revoked", key, clock);

    private static byte[] Write(string type, ApiKeyRecord key, TimeProvider? clock)
    {
        ArgumentNullException.ThrowIfNull(key);
        return EntryWriter.Write(type, Actor, json =>
        {
            json.WriteString("key_id", key.Id);
            json.WriteString("name", key.Name);
            json.WriteString("role", ApiKeyRoleNames.ToName(key.Role));
            json.WriteStartArray("brains");
            foreach (var brain in key.Brains)
            {
                json.WriteStringValue(brain);
            }

            json.WriteEndArray();
            WriteOptional(json, "rpm", key.Rpm);
            WriteOptional(json, "tpm", key.Tpm);
        }, clock).Bytes;
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, int? value)
    {
        if (value is { } v)
        {
            json.WriteNumber(name, v);
        }
    }
}
