using System.Reflection;
using System.Security.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Prng;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Security;
using Sios.Verify.Crypto;

namespace Sios.Signing;

/// <summary>An ML-DSA private key held by BouncyCastle (used where .NET's own ML-DSA is unavailable).</summary>
internal sealed class BouncyCastleMlDsaKey : IMlDsaKeyBackend
{
    private readonly MLDsaParameters parameters;
    private MLDsaPrivateKeyParameters? key;

    private BouncyCastleMlDsaKey(MLDsaParameters parameters, MLDsaPrivateKeyParameters key, bool hasSeed)
    {
        this.parameters = parameters;
        this.key = key;
        HasSeed = hasSeed;
        PublicKey = key.GetPublicKeyEncoded();
    }

    public byte[] PublicKey { get; }

    public bool HasSeed { get; }

    /// <summary>FIPS 204 ML-DSA.KeyGen_internal(ξ).</summary>
    public static BouncyCastleMlDsaKey FromSeed(MlDsaAlgorithm algorithm, ReadOnlySpan<byte> seed)
    {
        var parameters = Parameters(algorithm);

        // BouncyCastle keeps this array as the key's seed, so it must be a copy the caller does not zero.
        return new BouncyCastleMlDsaKey(parameters, MLDsaPrivateKeyParameters.FromSeed(parameters, seed.ToArray()), hasSeed: true);
    }

    /// <summary>Loads a FIPS 204 expanded private key (no seed).</summary>
    public static BouncyCastleMlDsaKey FromExpandedKey(MlDsaAlgorithm algorithm, ReadOnlySpan<byte> expandedKey)
    {
        var parameters = Parameters(algorithm);
        var copy = expandedKey.ToArray();
        try
        {
            return new BouncyCastleMlDsaKey(parameters, MLDsaPrivateKeyParameters.FromEncoding(parameters, copy), hasSeed: false);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(copy);
        }
    }

    public byte[] ExportSeed() =>
        HasSeed ? Key.GetSeed() : throw new InvalidOperationException("This key was loaded without its seed.");

    public byte[] ExportExpandedKey() => Key.GetEncoded();

    public byte[] Sign(ReadOnlySpan<byte> message, ReadOnlySpan<byte> context)
    {
        Span<byte> rnd = stackalloc byte[MlDsaKeySizes.Rnd];
        RandomNumberGenerator.Fill(rnd);
        try
        {
            return Sign(message, context, rnd);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(rnd);
        }
    }

    public byte[] Sign(ReadOnlySpan<byte> message, ReadOnlySpan<byte> context, ReadOnlySpan<byte> rnd)
    {
        // The engine draws rnd from the SecureRandom it is given; a generator that replays the caller's bytes makes
        // the hedged and deterministic variants (and the ACVP vectors) reachable through the public signer API.
        ICipherParameters signingParameters =
            new ParametersWithRandom(Key, new SecureRandom(new ReplayingGenerator(rnd)));
        if (!context.IsEmpty)
        {
            signingParameters = new ParametersWithContext(signingParameters, context);
        }

        // BouncyCastle signers keep per-message state, so each call builds its own.
        var signer = new MLDsaSigner(parameters, deterministic: false);
        signer.Init(true, signingParameters);
        signer.BlockUpdate(message);
        return signer.GenerateSignature();
    }

    public void Dispose()
    {
        var held = Interlocked.Exchange(ref key, null);
        if (held is null)
        {
            return;
        }

        // BouncyCastle keeps ξ, K, s1, s2 and t0 in internal arrays and offers no way to clear them; without this
        // they would stay readable on the managed heap until the memory happens to be reused.
        foreach (var field in typeof(MLDsaPrivateKeyParameters).GetFields(BindingFlags.Instance | BindingFlags.NonPublic))
        {
            if (field.FieldType == typeof(byte[]) && field.GetValue(held) is byte[] secret)
            {
                CryptographicOperations.ZeroMemory(secret);
            }
        }
    }

    private MLDsaPrivateKeyParameters Key => key ?? throw new ObjectDisposedException(nameof(MlDsaPrivateKey));

    private static MLDsaParameters Parameters(MlDsaAlgorithm algorithm) => algorithm switch
    {
        MlDsaAlgorithm.MlDsa44 => MLDsaParameters.ml_dsa_44,
        MlDsaAlgorithm.MlDsa65 => MLDsaParameters.ml_dsa_65,
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };

    /// <summary>Hands out exactly the bytes it was built with, once; asking for more is a bug.</summary>
    private sealed class ReplayingGenerator : IRandomGenerator
    {
        private readonly byte[] bytes;
        private int position;

        public ReplayingGenerator(ReadOnlySpan<byte> bytes) => this.bytes = bytes.ToArray();

        public void AddSeedMaterial(byte[] seed) { }

        public void AddSeedMaterial(ReadOnlySpan<byte> seed) { }

        public void AddSeedMaterial(long seed) { }

        public void NextBytes(byte[] bytes) => NextBytes(bytes.AsSpan());

        public void NextBytes(byte[] bytes, int start, int len) => NextBytes(bytes.AsSpan(start, len));

        public void NextBytes(Span<byte> bytes)
        {
            if (bytes.Length > this.bytes.Length - position)
            {
                throw new InvalidOperationException("ML-DSA signing asked for more randomness than rnd provides.");
            }

            this.bytes.AsSpan(position, bytes.Length).CopyTo(bytes);
            CryptographicOperations.ZeroMemory(this.bytes.AsSpan(position, bytes.Length));
            position += bytes.Length;
        }
    }
}
