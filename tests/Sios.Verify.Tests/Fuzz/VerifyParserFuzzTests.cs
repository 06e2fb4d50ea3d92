using System.Text;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Security;
using Sios.Tests.Fuzz;
using Sios.Verify.Audit;
using Sios.Verify.Checkpoints;
using Sios.Verify.Crypto;
using Sios.Verify.Merkle;
using Sios.Verify.Notes;
using Sios.Verify.Receipts;
using Xunit.Abstractions;

namespace Sios.Verify.Tests.Fuzz;

/// <summary>
/// Issue 6, item 4: hostile input to every parser of Sios.Verify that reads outside data (signed notes, checkpoints,
/// tlog-proof receipts, vkeys, public key PEMs, entry bundles). Mutants of valid, really signed artefacts may only
/// verify or be rejected with FormatViolationException / VerificationException; never another exception.
/// </summary>
public sealed class VerifyParserFuzzTests(ITestOutputHelper output)
{
    private const string Origin = "fuzz.sios.local/log";

    private static readonly Lazy<Artefacts> Valid = new(Artefacts.Create);

    private static readonly Type[] Rejections = [typeof(FormatViolationException), typeof(VerificationException)];

    /// <summary>A really signed two-entry log: its key, its checkpoint and the receipt of entry 0.</summary>
    private sealed record Artefacts(VerifierKey Key, string Vkey, byte[] Checkpoint, byte[] Receipt, byte[] Bundle)
    {
        public static Artefacts Create()
        {
            var generator = new Ed25519KeyPairGenerator();
            generator.Init(new Ed25519KeyGenerationParameters(new SecureRandom()));
            var pair = generator.GenerateKeyPair();
            var key = VerifierKey.Create(Origin, NoteKeyKind.Ed25519, ((Ed25519PublicKeyParameters)pair.Public).GetEncoded());
            byte[][] entries = ["{\"type\":\"operator.note\",\"text\":\"first\"}"u8.ToArray(), "second entry"u8.ToArray()];
            var root = Rfc6962.NodeHash(Rfc6962.LeafHash(entries[0]), Rfc6962.LeafHash(entries[1]));
            var text = Encoding.UTF8.GetBytes(new Checkpoint(Origin, 2, root).ToNoteText());
            var signer = new Ed25519Signer();
            signer.Init(true, pair.Private);
            signer.BlockUpdate(text, 0, text.Length);
            var note = Encoding.UTF8.GetString(text) + "\n" + SignedNote.FormatSignatureLine(Origin, key.KeyId, signer.GenerateSignature());
            var checkpoint = Encoding.UTF8.GetBytes(note);
            var receipt = new TlogProof(entries[0], 0, [Rfc6962.LeafHash(entries[1])], checkpoint).ToBytes();
            return new Artefacts(key, key.ToString(), checkpoint, receipt, EntryBundle.Encode(entries));
        }
    }

    [Fact]
    public void The_valid_artefacts_verify_so_the_fuzzing_starts_from_accepted_input()
    {
        var v = Valid.Value;
        Assert.Equal(2, CheckpointVerifier.ForLogKeys([v.Key]).Verify(v.Checkpoint).Checkpoint.Size);
        Assert.Equal(0, new ReceiptVerifier([v.Key]).Verify(v.Receipt).Index);
        Assert.Equal(v.Key.KeyId, VerifierKey.Parse(v.Vkey).KeyId);
        Assert.Equal(2, EntryBundle.Split(v.Bundle, 2).Length);
    }

    [Fact]
    public void Signed_notes_and_the_note_verifier()
    {
        var verifier = new NoteVerifier([Valid.Value.Key]);
        Report("SignedNote.Parse + NoteVerifier.Verify", FuzzHarness.Run(FuzzHarness.Mutants(Valid.Value.Checkpoint), input =>
        {
            SignedNote.Parse(input);
            verifier.Verify(input);
        }, Rejections));
    }

    [Fact]
    public void Checkpoints_and_the_checkpoint_verifier()
    {
        var verifier = CheckpointVerifier.ForLogKeys([Valid.Value.Key]);
        var text = Encoding.UTF8.GetBytes(new Checkpoint(Origin, 2, new byte[32], ["extension line"]).ToNoteText());
        Report("Checkpoint.Parse + CheckpointVerifier.Verify", FuzzHarness.Run(FuzzHarness.Mutants(Valid.Value.Checkpoint, text), input =>
        {
            Checkpoint.Parse(Encoding.UTF8.GetString(input));
            verifier.Verify(input);
        }, Rejections));
    }

    [Fact]
    public void Receipts_and_the_receipt_verifier()
    {
        var verifier = new ReceiptVerifier([Valid.Value.Key]);
        Report("TlogProof.Parse + ReceiptVerifier.Verify", FuzzHarness.Run(FuzzHarness.Mutants(Valid.Value.Receipt), input =>
        {
            var proof = TlogProof.Parse(input);
            Assert.Equal(proof.ToBytes(), input);
            verifier.Verify(input);
        }, Rejections));
    }

    [Fact]
    public void Vkeys()
    {
        var mldsa = "fuzz.sios.local/log+00000000+/wYJYIZIAWUDBAMS" + Convert.ToBase64String(new byte[1952]);
        Report("VerifierKey.Parse", FuzzHarness.Run(
            FuzzHarness.Mutants(Encoding.UTF8.GetBytes(Valid.Value.Vkey), Encoding.UTF8.GetBytes(mldsa)),
            input => VerifierKey.Parse(Encoding.UTF8.GetString(input)),
            Rejections));
    }

    [Fact]
    public void Public_key_pems()
    {
        var pems = new[] { MlDsaAlgorithm.MlDsa44, MlDsaAlgorithm.MlDsa65 }
            .Select(a => Encoding.UTF8.GetBytes(PublicKeyPem.Format(a, new byte[MlDsaSizes.PublicKey(a)])))
            .ToArray();
        Report("PublicKeyPem.Parse", FuzzHarness.Run(FuzzHarness.Mutants(pems), input => PublicKeyPem.Parse(Encoding.UTF8.GetString(input)), Rejections));
    }

    [Fact]
    public void Entry_bundles()
    {
        Report("EntryBundle.Split", FuzzHarness.Run(FuzzHarness.Mutants(Valid.Value.Bundle), input =>
        {
            foreach (var count in new[] { 1, 2, 3, 256 })
            {
                foreach (var (offset, length) in EntryBundle.Split(input, count))
                {
                    Assert.InRange(offset + length, offset, input.Length);
                }
            }
        }, Rejections));
    }

    private void Report(string parser, long executions)
    {
        output.WriteLine($"{parser}: {executions} executions in {FuzzHarness.Seconds} s");
        Assert.True(executions > 0, $"{parser} was never run");
    }
}
