using System.Buffers.Binary;
using System.Text;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Security;
using Sios.Verify.Audit;
using Sios.Verify.Checkpoints;
using Sios.Verify.Crypto;
using Sios.Verify.Merkle;
using Sios.Verify.Notes;
using Sios.Verify.Receipts;

namespace Sios.Tests.Fuzz;

/// <summary>
/// Really signed artefacts of a two-entry log, made fresh on each run, as fuzzing seeds: the SIOS form (ML-DSA-65
/// signature plus ML-DSA-44 timestamped cosignature, SPEC §3) and the plain Ed25519 signed-note form. Shared by the
/// CsCheck mutation tests and the coverage-guided harness in fuzz/Sios.Fuzz, so both start from accepted input.
/// </summary>
internal sealed class SignedArtefacts
{
    /// <summary>The origin of the log the artefacts belong to.</summary>
    public const string Origin = "fuzz.sios.local/log";

    /// <summary>The cosignature timestamp (POSIX seconds) written in the ML-DSA-44 line.</summary>
    public const ulong CosignatureTime = 1_790_000_000;

    private SignedArtefacts(SignedLog mlDsa, SignedLog ed25519, byte[] bundle, byte[][] pems)
    {
        MlDsa = mlDsa;
        Ed25519 = ed25519;
        Bundle = bundle;
        Pems = pems;
    }

    /// <summary>The log as SIOS signs it: ML-DSA-65 and ML-DSA-44 cosignature.</summary>
    public SignedLog MlDsa { get; }

    /// <summary>The same log signed with Ed25519 only (the plain signed-note algorithm).</summary>
    public SignedLog Ed25519 { get; }

    /// <summary>The tlog-tiles entry bundle holding the log's two entries.</summary>
    public byte[] Bundle { get; }

    /// <summary>SubjectPublicKeyInfo PEMs of the real ML-DSA-44 and ML-DSA-65 public keys.</summary>
    public IReadOnlyList<byte[]> Pems { get; }

    /// <summary>The log's two entries: a JSON entry and an opaque one.</summary>
    public static IReadOnlyList<byte[]> Entries { get; } =
        ["{\"v\":1,\"type\":\"operator.note\",\"text\":\"first\"}"u8.ToArray(), "second entry"u8.ToArray()];

    /// <summary>Generates fresh keys and signs the log's checkpoint and receipts with them.</summary>
    public static SignedArtefacts Create()
    {
        var random = new SecureRandom();
        var root = Rfc6962.NodeHash(Rfc6962.LeafHash(Entries[0]), Rfc6962.LeafHash(Entries[1]));
        var text = Encoding.UTF8.GetBytes(new Checkpoint(Origin, Entries.Count, root).ToNoteText());

        var ml65 = Generate(new MLDsaKeyPairGenerator(), new MLDsaKeyGenerationParameters(random, MLDsaParameters.ml_dsa_65));
        var ml44 = Generate(new MLDsaKeyPairGenerator(), new MLDsaKeyGenerationParameters(random, MLDsaParameters.ml_dsa_44));
        var ml65Key = VerifierKey.Create(Origin, NoteKeyKind.MlDsa65, ((MLDsaPublicKeyParameters)ml65.Public).GetEncoded());
        var ml44Key = VerifierKey.Create(Origin, NoteKeyKind.MlDsa44Cosignature, ((MLDsaPublicKeyParameters)ml44.Public).GetEncoded());
        var cosigned = CosignedMessage.Build(Origin, CosignatureTime, Origin, 0, (ulong)Entries.Count, root);
        var timestamp = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(timestamp, CosignatureTime);
        var mlDsaNote = Note(text,
            (ml65Key, Sign(new MLDsaSigner(MLDsaParameters.ml_dsa_65, deterministic: false), ml65.Private, text)),
            (ml44Key, [.. timestamp, .. Sign(new MLDsaSigner(MLDsaParameters.ml_dsa_44, deterministic: false), ml44.Private, cosigned)]));

        var ed = Generate(new Ed25519KeyPairGenerator(), new Ed25519KeyGenerationParameters(random));
        var edKey = VerifierKey.Create(Origin, NoteKeyKind.Ed25519, ((Ed25519PublicKeyParameters)ed.Public).GetEncoded());
        var edNote = Note(text, (edKey, Sign(new Ed25519Signer(), ed.Private, text)));

        byte[][] pems =
        [
            Encoding.UTF8.GetBytes(PublicKeyPem.Format(MlDsaAlgorithm.MlDsa44, ml44Key.PublicKey)),
            Encoding.UTF8.GetBytes(PublicKeyPem.Format(MlDsaAlgorithm.MlDsa65, ml65Key.PublicKey)),
        ];
        return new SignedArtefacts(SignedLog.Of([ml65Key, ml44Key], mlDsaNote), SignedLog.Of([edKey], edNote), EntryBundle.Encode(Entries), pems);
    }

    private static AsymmetricCipherKeyPair Generate(IAsymmetricCipherKeyPairGenerator generator, KeyGenerationParameters parameters)
    {
        generator.Init(parameters);
        return generator.GenerateKeyPair();
    }

    private static byte[] Sign(ISigner signer, AsymmetricKeyParameter key, byte[] message)
    {
        signer.Init(true, key);
        signer.BlockUpdate(message, 0, message.Length);
        return signer.GenerateSignature();
    }

    private static byte[] Note(byte[] text, params (VerifierKey Key, byte[] Signature)[] lines) =>
        Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(text) + "\n" +
            string.Concat(lines.Select(l => SignedNote.FormatSignatureLine(l.Key.Name, l.Key.KeyId, l.Signature))));
}

/// <summary>One signing of the log: the keys that must all have signed, the checkpoint, and a receipt per entry.</summary>
/// <param name="Keys">The log's verifier keys (all must sign a checkpoint).</param>
/// <param name="Checkpoint">The signed checkpoint note.</param>
/// <param name="Receipts">The tlog-proof receipt of each entry, by index.</param>
internal sealed record SignedLog(IReadOnlyList<VerifierKey> Keys, byte[] Checkpoint, IReadOnlyList<byte[]> Receipts)
{
    /// <summary>The keys in vkey text form.</summary>
    public IReadOnlyList<string> Vkeys => Keys.Select(k => k.ToString()).ToList();

    /// <summary>Receipts for both entries of the two-entry log under <paramref name="checkpoint"/>.</summary>
    public static SignedLog Of(IReadOnlyList<VerifierKey> keys, byte[] checkpoint)
    {
        var entries = SignedArtefacts.Entries;
        byte[][] receipts =
        [
            new TlogProof(entries[0], 0, [Rfc6962.LeafHash(entries[1])], checkpoint).ToBytes(),
            new TlogProof(entries[1], 1, [Rfc6962.LeafHash(entries[0])], checkpoint).ToBytes(),
        ];
        return new SignedLog(keys, checkpoint, receipts);
    }
}
