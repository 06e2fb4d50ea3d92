using System.Security.Cryptography;
using Sios.Verify.Crypto;

namespace Sios.Signing;

/// <summary>
/// An ML-DSA-44 or ML-DSA-65 private key (FIPS 204): generate, load, sign in pure mode, and seal at rest as
/// encrypted PKCS#8. Uses .NET's own ML-DSA where the platform supports it, else BouncyCastle; both give the same
/// keys from the same seed. Signing is safe from many threads at once; do not dispose while a call is running.
/// </summary>
public sealed class MlDsaPrivateKey : IDisposable
{
    // Signed and verified on every key loaded without its seed: its parts cannot be checked any other way.
    private static readonly byte[] PairwiseProbe = "SIOS ML-DSA pairwise consistency check"u8.ToArray();

    private readonly IMlDsaKeyBackend backend;
    private readonly byte[] publicKey;
    private int disposed;

    private MlDsaPrivateKey(MlDsaAlgorithm algorithm, IMlDsaKeyBackend backend)
    {
        Algorithm = algorithm;
        this.backend = backend;
        publicKey = backend.PublicKey;
    }

    /// <summary>The parameter set of this key.</summary>
    public MlDsaAlgorithm Algorithm { get; }

    /// <summary>A copy of the raw FIPS 204 public key (1,312 bytes for ML-DSA-44, 1,952 for ML-DSA-65).</summary>
    public byte[] PublicKey => (byte[])publicKey.Clone();

    /// <summary>Generates a new key: FIPS 204 ML-DSA.KeyGen with a 32-byte seed from the OS RNG.</summary>
    public static MlDsaPrivateKey Generate(MlDsaAlgorithm algorithm)
    {
        Span<byte> seed = stackalloc byte[MlDsaKeySizes.Seed];
        RandomNumberGenerator.Fill(seed);
        try
        {
            return FromSeed(algorithm, seed);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>Derives the key from its 32-byte seed ξ: FIPS 204 ML-DSA.KeyGen_internal(ξ).</summary>
    public static MlDsaPrivateKey FromSeed(MlDsaAlgorithm algorithm, ReadOnlySpan<byte> seed32)
    {
        if (seed32.Length != MlDsaKeySizes.Seed)
        {
            throw new ArgumentException($"An ML-DSA seed is {MlDsaKeySizes.Seed} bytes, not {seed32.Length}.", nameof(seed32));
        }

        IMlDsaKeyBackend backend = MLDsa.IsSupported
            ? PlatformMlDsaKey.FromSeed(algorithm, seed32)
            : BouncyCastleMlDsaKey.FromSeed(algorithm, seed32);
        return new MlDsaPrivateKey(algorithm, backend);
    }

    /// <summary>
    /// Loads a FIPS 204 expanded private key sk (2,560 or 4,032 bytes), as test vectors give them. Such a key has
    /// no seed. Throws <see cref="ArgumentException"/> when sk is inconsistent (its signatures would not verify).
    /// </summary>
    public static MlDsaPrivateKey FromExpandedKey(MlDsaAlgorithm algorithm, ReadOnlySpan<byte> sk)
    {
        var expected = MlDsaKeySizes.ExpandedKey(algorithm);
        if (sk.Length != expected)
        {
            throw new ArgumentException(
                $"An {MlDsaKeySizes.Name(algorithm)} expanded private key is {expected} bytes, not {sk.Length}.", nameof(sk));
        }

        var key = LoadExpandedKey(algorithm, sk);
        if (!key.PassesPairwiseCheck())
        {
            key.Dispose();
            throw new ArgumentException(
                $"The {MlDsaKeySizes.Name(algorithm)} expanded private key is inconsistent: " +
                "its signatures do not verify under the public key it implies.", nameof(sk));
        }

        return key;
    }

    /// <summary>
    /// Loads a key from <c>-----BEGIN ENCRYPTED PRIVATE KEY-----</c> PEM (PBES2: PBKDF2-HMAC-SHA256, AES-256-CBC)
    /// holding an RFC 9881 seed, expandedKey or both. A wrong passphrase or damaged file throws
    /// <see cref="KeyPassphraseException"/>; a file of the wrong kind throws <see cref="KeyFormatException"/>.
    /// </summary>
    public static MlDsaPrivateKey ImportEncryptedPem(string pem, ReadOnlySpan<char> passphrase)
    {
        ArgumentNullException.ThrowIfNull(pem);
        var plaintext = EncryptedPrivateKeyPem.Decrypt(pem, passphrase);
        try
        {
            var decoded = MlDsaPrivateKeyInfo.Decode(plaintext);
            var key = decoded.Seed.IsEmpty
                ? LoadExpandedKey(decoded.Algorithm, decoded.ExpandedKey.Span)
                : FromSeed(decoded.Algorithm, decoded.Seed.Span);
            var consistent = false;
            try
            {
                consistent = key.Matches(decoded);
            }
            finally
            {
                if (!consistent)
                {
                    key.Dispose();
                }
            }

            return consistent ? key : throw new KeyPassphraseException();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    /// <summary>
    /// Signs with FIPS 204 ML-DSA.Sign in pure mode, hedged with 32 fresh bytes from the OS RNG.
    /// <paramref name="context"/> is at most 255 bytes.
    /// </summary>
    public byte[] Sign(ReadOnlySpan<byte> message, ReadOnlySpan<byte> context = default)
    {
        ThrowIfDisposed();
        CheckContext(context);
        return backend.Sign(message, context);
    }

    /// <summary>
    /// Signs with FIPS 204 ML-DSA.Sign in pure mode with the caller's 32-byte <paramref name="rnd32"/>; all zeros
    /// gives the deterministic variant. For test vectors: production signing should use the hedged overload.
    /// </summary>
    public byte[] Sign(ReadOnlySpan<byte> message, ReadOnlySpan<byte> context, ReadOnlySpan<byte> rnd32)
    {
        ThrowIfDisposed();
        CheckContext(context);
        if (rnd32.Length != MlDsaKeySizes.Rnd)
        {
            throw new ArgumentException($"ML-DSA rnd is {MlDsaKeySizes.Rnd} bytes, not {rnd32.Length}.", nameof(rnd32));
        }

        return backend.Sign(message, context, rnd32);
    }

    /// <summary>
    /// Seals the key as <c>-----BEGIN ENCRYPTED PRIVATE KEY-----</c> PEM: PKCS#8 EncryptedPrivateKeyInfo with PBES2
    /// (PBKDF2-HMAC-SHA256, 16-byte random salt, 600,000 iterations; AES-256-CBC, random IV) around a
    /// OneAsymmetricKey holding the RFC 9881 seed (or the expandedKey, for a key loaded without its seed).
    /// </summary>
    public string ExportEncryptedPem(ReadOnlySpan<char> passphrase)
    {
        ThrowIfDisposed();
        if (passphrase.IsEmpty)
        {
            throw new ArgumentException("An empty passphrase would leave the key unprotected; choose one.", nameof(passphrase));
        }

        var secret = backend.HasSeed ? backend.ExportSeed() : backend.ExportExpandedKey();
        byte[]? plaintext = null;
        try
        {
            plaintext = backend.HasSeed
                ? MlDsaPrivateKeyInfo.Encode(Algorithm, secret, default, publicKey)
                : MlDsaPrivateKeyInfo.Encode(Algorithm, default, secret, publicKey);
            return EncryptedPrivateKeyPem.Encrypt(plaintext, passphrase);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    /// <summary>The public key as SubjectPublicKeyInfo PEM (<c>-----BEGIN PUBLIC KEY-----</c>).</summary>
    public string ExportPublicKeyPem() => PublicKeyPem.Format(Algorithm, publicKey);

    /// <summary>Zeroes the secret key material this object holds; the key cannot be used afterwards.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 0)
        {
            backend.Dispose();
        }
    }

    /// <summary>Whether the key carries its seed ξ (false for keys loaded from an expanded key).</summary>
    internal bool HasSeed => backend.HasSeed;

    /// <summary>A copy of the FIPS 204 expanded private key sk, for test vectors; the caller zeroes it.</summary>
    internal byte[] ExportExpandedKey()
    {
        ThrowIfDisposed();
        return backend.ExportExpandedKey();
    }

    private static MlDsaPrivateKey LoadExpandedKey(MlDsaAlgorithm algorithm, ReadOnlySpan<byte> sk)
    {
        IMlDsaKeyBackend backend = MLDsa.IsSupported
            ? PlatformMlDsaKey.FromExpandedKey(algorithm, sk)
            : BouncyCastleMlDsaKey.FromExpandedKey(algorithm, sk);
        return new MlDsaPrivateKey(algorithm, backend);
    }

    private static void CheckContext(ReadOnlySpan<byte> context)
    {
        if (context.Length > MlDsaVerifier.MaxContextLength)
        {
            throw new ArgumentException(
                $"An ML-DSA context is at most {MlDsaVerifier.MaxContextLength} bytes, not {context.Length}.", nameof(context));
        }
    }

    private bool PassesPairwiseCheck() =>
        MlDsaVerifier.Verify(Algorithm, publicKey, PairwiseProbe, backend.Sign(PairwiseProbe, default));

    // Every part the file stored must agree with the key rebuilt from it (RFC 9881 section 8.2 for seed and
    // expandedKey); a mismatch means damage, since unauthenticated CBC lets a bad block decrypt to plausible bytes.
    private bool Matches(MlDsaPrivateKeyInfo.DecodedKey decoded)
    {
        if (!decoded.PublicKey.IsEmpty && !CryptographicOperations.FixedTimeEquals(decoded.PublicKey.Span, publicKey))
        {
            return false;
        }

        if (decoded.Seed.IsEmpty)
        {
            return PassesPairwiseCheck();
        }

        if (decoded.ExpandedKey.IsEmpty)
        {
            return true;
        }

        var derived = backend.ExportExpandedKey();
        try
        {
            return CryptographicOperations.FixedTimeEquals(derived, decoded.ExpandedKey.Span);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(derived);
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
}
