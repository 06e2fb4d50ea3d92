using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Sios.Ledger.Storage;

namespace Sios.Ledger.Pipeline;

/// <summary>
/// The authenticator of a log's unsigned tail. Entries are durable before the checkpoint that signs them, so a crash
/// between the two leaves a tail; a tile is only SHA-256, so anyone who can write the store can also append rows
/// that look like such a tail. Each batch therefore stores, in its own transaction, an HMAC under a key derived from
/// the passphrase-protected master secret over the tree it leaves: recovery signs a tail only when that tag matches
/// the tree the tail's entries rebuild, which nobody without the master secret can arrange.
/// </summary>
public static class TailSeals
{
    /// <summary>The master-secret purpose whose derived key makes tail seals (see <c>MasterSecret.DeriveKey</c>).</summary>
    public const string KeyPurpose = "log-tail-seal/v1";

    /// <summary>Bytes in a key and in a tag.</summary>
    public const int Size = 32;

    /// <summary>The tag for the tree of <paramref name="size"/> entries with <paramref name="root"/> in the log <paramref name="origin"/>.</summary>
    public static byte[] Compute(ReadOnlySpan<byte> key, string origin, long size, ReadOnlySpan<byte> root)
    {
        if (key.Length != Size)
        {
            throw new ArgumentException($"a tail seal key is {Size} bytes", nameof(key));
        }

        // A domain-separated text, so a tag can never be mistaken for any other HMAC the master secret's keys make.
        var message = Encoding.UTF8.GetBytes(string.Create(
            CultureInfo.InvariantCulture, $"sios log tail seal v1\n{origin}\n{size}\n{Convert.ToBase64String(root)}\n"));
        return HMACSHA256.HashData(key, message);
    }

    /// <summary>Whether <paramref name="seal"/> vouches for the tree of <paramref name="size"/> entries with <paramref name="root"/> (constant time).</summary>
    public static bool Authenticates(TailSeal? seal, ReadOnlySpan<byte> key, string origin, long size, ReadOnlySpan<byte> root) =>
        seal is not null
        && seal.Size == size
        && key.Length == Size
        && CryptographicOperations.FixedTimeEquals(seal.Tag, Compute(key, origin, size, root));
}
