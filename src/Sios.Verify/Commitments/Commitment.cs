using System.Security.Cryptography;

namespace Sios.Verify.Commitments;

/// <summary>
/// SPEC §2 content commitments: base64(SHA-256(nonce || content)) with a 32-byte nonce, and the nonces themselves,
/// derived from the operator's commitment secret so that one nonce can be disclosed without revealing any other.
/// </summary>
public static class Commitment
{
    /// <summary>Length of a commitment nonce.</summary>
    public const int NonceSize = 32;

    /// <summary>Computes the commitment string for <paramref name="content"/> under <paramref name="nonce"/>.</summary>
    public static string Compute(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> content)
    {
        if (nonce.Length != NonceSize)
        {
            throw new FormatViolationException($"a commitment nonce is {NonceSize} bytes, not {nonce.Length}");
        }

        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        h.AppendData(nonce);
        h.AppendData(content);
        return Convert.ToBase64String(h.GetHashAndReset());
    }

    /// <summary>True if <paramref name="commitment"/> commits to <paramref name="content"/> under <paramref name="nonce"/>.</summary>
    public static bool Matches(string commitment, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> content)
    {
        ArgumentNullException.ThrowIfNull(commitment);
        var expected = System.Text.Encoding.ASCII.GetBytes(Compute(nonce, content));
        var actual = System.Text.Encoding.ASCII.GetBytes(commitment);
        return CryptographicOperations.FixedTimeEquals(expected, actual);
    }

    /// <summary>
    /// The nonce of <paramref name="field"/> (e.g. <c>request</c>, <c>response</c>) in the entry <paramref name="entryId"/>:
    /// HMAC-SHA256(<paramref name="commitmentSecret"/>, UTF-8(entryId || ":" || field)), 32 bytes.
    /// </summary>
    public static byte[] DeriveNonce(ReadOnlySpan<byte> commitmentSecret, string entryId, string field)
    {
        ArgumentException.ThrowIfNullOrEmpty(entryId);
        ArgumentException.ThrowIfNullOrEmpty(field);
        if (commitmentSecret.IsEmpty)
        {
            // HMAC would accept an empty key, but every nonce would then be public knowledge.
            throw new ArgumentException("the commitment secret is empty", nameof(commitmentSecret));
        }

        return HMACSHA256.HashData(commitmentSecret, System.Text.Encoding.UTF8.GetBytes(entryId + ":" + field));
    }
}
