using System.Buffers.Binary;
using Sios.Signing;
using Sios.Verify.Checkpoints;
using Sios.Verify.Crypto;
using Sios.Verify.Notes;

namespace Sios.Witness;

/// <summary>
/// The witness's two keys and the cosignatures it makes with them (c2sp.org/tlog-cosignature): an ML-DSA-44
/// <c>subtree/v1</c> line for the whole tree (start 0, end = size) and an Ed25519 <c>cosignature/v1</c> line, both
/// timestamped and named after the witness.
/// </summary>
public sealed class Cosigner : IDisposable
{
    private readonly MlDsaPrivateKey _mlDsa44;
    private readonly Ed25519PrivateKey _ed25519;
    private readonly TimeProvider _clock;

    /// <summary>Takes ownership of both keys.</summary>
    public Cosigner(string name, MlDsaPrivateKey mlDsa44, Ed25519PrivateKey ed25519, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(mlDsa44);
        ArgumentNullException.ThrowIfNull(ed25519);
        if (mlDsa44.Algorithm != MlDsaAlgorithm.MlDsa44)
        {
            throw new ArgumentException("a witness cosigns with an ML-DSA-44 key", nameof(mlDsa44));
        }

        Name = name;
        _mlDsa44 = mlDsa44;
        _ed25519 = ed25519;
        _clock = clock ?? TimeProvider.System;
        Keys = [VerifierKey.Create(name, NoteKeyKind.MlDsa44Cosignature, mlDsa44.PublicKey), VerifierKey.Create(name, NoteKeyKind.Ed25519Cosignature, ed25519.PublicKey)];
    }

    /// <summary>The witness name (key name of every cosignature line).</summary>
    public string Name { get; }

    /// <summary>The cosigner vkeys: ML-DSA-44 (0x06), then Ed25519 (0x04).</summary>
    public IReadOnlyList<VerifierKey> Keys { get; }

    /// <summary>Cosigns <paramref name="checkpoint"/> (whose note text is <paramref name="text"/>) now: both signature lines.</summary>
    public string Cosign(Checkpoint checkpoint, string text)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        // The spec forbids a zero timestamp; a clock set before 1970 must not produce one.
        var timestamp = (ulong)Math.Max(1, _clock.GetUtcNow().ToUnixTimeSeconds());
        var subtree = CosignedMessage.Build(Name, timestamp, checkpoint.Origin, 0, (ulong)checkpoint.Size, checkpoint.Root);
        return Line(Keys[0], timestamp, _mlDsa44.Sign(subtree)) + Line(Keys[1], timestamp, _ed25519.Sign(CosignedMessage.BuildV1(timestamp, text)));
    }

    private static string Line(VerifierKey key, ulong timestamp, byte[] signature)
    {
        var timestamped = new byte[8 + signature.Length];
        BinaryPrimitives.WriteUInt64BigEndian(timestamped, timestamp);
        signature.CopyTo(timestamped, 8);
        return SignedNote.FormatSignatureLine(key.Name, key.KeyId, timestamped);
    }

    /// <summary>Zeroes both keys.</summary>
    public void Dispose()
    {
        _mlDsa44.Dispose();
        _ed25519.Dispose();
    }
}
