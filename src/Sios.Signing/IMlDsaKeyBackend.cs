namespace Sios.Signing;

/// <summary>One ML-DSA private key held by a cryptographic provider (.NET's own, or BouncyCastle).</summary>
internal interface IMlDsaKeyBackend : IDisposable
{
    /// <summary>The raw FIPS 204 public key.</summary>
    byte[] PublicKey { get; }

    /// <summary>Whether the key was made from a seed (and so can export it).</summary>
    bool HasSeed { get; }

    /// <summary>A fresh copy of the 32-byte seed; the caller zeroes it.</summary>
    byte[] ExportSeed();

    /// <summary>A fresh copy of the FIPS 204 expanded private key; the caller zeroes it.</summary>
    byte[] ExportExpandedKey();

    /// <summary>Hedged pure ML-DSA.Sign with 32 fresh bytes from the OS RNG.</summary>
    byte[] Sign(ReadOnlySpan<byte> message, ReadOnlySpan<byte> context);

    /// <summary>Pure ML-DSA.Sign with the caller's <paramref name="rnd"/> (all zero = deterministic).</summary>
    byte[] Sign(ReadOnlySpan<byte> message, ReadOnlySpan<byte> context, ReadOnlySpan<byte> rnd);
}
