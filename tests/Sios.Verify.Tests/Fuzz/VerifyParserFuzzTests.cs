using System.Text;
using Sios.Tests.Fuzz;
using Sios.Verify.Audit;
using Sios.Verify.Checkpoints;
using Sios.Verify.Crypto;
using Sios.Verify.Notes;
using Sios.Verify.Receipts;
using Xunit.Abstractions;

namespace Sios.Verify.Tests.Fuzz;

/// <summary>
/// Issue 6, item 4: hostile input to every parser of Sios.Verify that reads outside data (signed notes, checkpoints,
/// tlog-proof receipts, vkeys, public key PEMs, entry bundles). Mutants of valid, really signed artefacts (ML-DSA-65
/// with its ML-DSA-44 cosignature, as SIOS signs, and Ed25519) may only verify or be rejected with
/// FormatViolationException / VerificationException; never another exception.
/// </summary>
public sealed class VerifyParserFuzzTests(ITestOutputHelper output)
{
    private static readonly Lazy<SignedArtefacts> Valid = new(SignedArtefacts.Create);

    private static readonly Type[] Rejections = [typeof(FormatViolationException), typeof(VerificationException)];

    private static SignedLog MlDsa => Valid.Value.MlDsa;

    private static SignedLog Ed25519 => Valid.Value.Ed25519;

    [Fact]
    public void The_valid_artefacts_verify_so_the_fuzzing_starts_from_accepted_input()
    {
        foreach (var log in new[] { MlDsa, Ed25519 })
        {
            var verified = CheckpointVerifier.ForLogKeys(log.Keys).Verify(log.Checkpoint);
            Assert.Equal(2, verified.Checkpoint.Size);
            Assert.Equal(log.Keys.Count, verified.Signatures.Count);
            Assert.Equal(1, new ReceiptVerifier(log.Keys).Verify(log.Receipts[1]).Index);
            Assert.Equal(log.Keys.Select(k => k.KeyId), log.Vkeys.Select(v => VerifierKey.Parse(v).KeyId));
        }

        Assert.Equal([NoteKeyKind.MlDsa65, NoteKeyKind.MlDsa44Cosignature], MlDsa.Keys.Select(k => k.Kind));
        Assert.Equal(SignedArtefacts.CosignatureTime, CheckpointVerifier.ForLogKeys(MlDsa.Keys).Verify(MlDsa.Checkpoint).Signatures[1].Timestamp);
        Assert.Equal(MlDsa.Keys[1].PublicKey, PublicKeyPem.Parse(Encoding.UTF8.GetString(Valid.Value.Pems[0])).PublicKey);
        Assert.Equal(2, EntryBundle.Split(Valid.Value.Bundle, 2).Length);
    }

    [Fact]
    public void Signed_notes_and_the_note_verifier()
    {
        var verifiers = new[] { new NoteVerifier(MlDsa.Keys), new NoteVerifier(Ed25519.Keys) };
        Report("SignedNote.Parse + NoteVerifier.Verify", FuzzHarness.Run(FuzzHarness.Mutants(MlDsa.Checkpoint, Ed25519.Checkpoint), input =>
        {
            SignedNote.Parse(input);
            foreach (var verifier in verifiers)
            {
                Attempt(() => verifier.Verify(input));
            }
        }, Rejections));
    }

    [Fact]
    public void Checkpoints_and_the_checkpoint_verifier()
    {
        var verifiers = new[] { CheckpointVerifier.ForLogKeys(MlDsa.Keys), CheckpointVerifier.ForLogKeys(Ed25519.Keys) };
        var text = Encoding.UTF8.GetBytes(new Checkpoint(SignedArtefacts.Origin, 2, new byte[32], ["extension line"]).ToNoteText());
        Report("Checkpoint.Parse + CheckpointVerifier.Verify", FuzzHarness.Run(FuzzHarness.Mutants(MlDsa.Checkpoint, Ed25519.Checkpoint, text), input =>
        {
            Attempt(() => Checkpoint.Parse(Encoding.UTF8.GetString(input)));
            foreach (var verifier in verifiers)
            {
                Attempt(() => verifier.Verify(input));
            }
        }, Rejections));
    }

    [Fact]
    public void Receipts_and_the_receipt_verifier()
    {
        var verifiers = new[] { new ReceiptVerifier(MlDsa.Keys), new ReceiptVerifier(Ed25519.Keys) };
        Report("TlogProof.Parse + ReceiptVerifier.Verify", FuzzHarness.Run(FuzzHarness.Mutants([.. MlDsa.Receipts, .. Ed25519.Receipts]), input =>
        {
            var proof = TlogProof.Parse(input);
            Assert.Equal(proof.ToBytes(), input);
            foreach (var verifier in verifiers)
            {
                Attempt(() => verifier.Verify(input));
            }
        }, Rejections));
    }

    [Fact]
    public void Vkeys()
    {
        Report("VerifierKey.Parse", FuzzHarness.Run(
            FuzzHarness.Mutants([.. MlDsa.Vkeys.Concat(Ed25519.Vkeys).Select(Encoding.UTF8.GetBytes)]),
            input => VerifierKey.Parse(Encoding.UTF8.GetString(input)),
            Rejections));
    }

    [Fact]
    public void Public_key_pems()
    {
        Report("PublicKeyPem.Parse", FuzzHarness.Run(FuzzHarness.Mutants([.. Valid.Value.Pems]), input => PublicKeyPem.Parse(Encoding.UTF8.GetString(input)), Rejections));
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

    /// <summary>Runs one parser, letting only the documented rejections pass, so the next parser sees the same input.</summary>
    private static void Attempt(Action parse)
    {
        try
        {
            parse();
        }
        catch (Exception e) when (Rejections.Any(t => t.IsInstanceOfType(e)))
        {
            // The documented rejection: the input still goes on to the next parser.
        }
    }

    private void Report(string parser, long executions)
    {
        output.WriteLine($"{parser}: {executions} executions in {FuzzHarness.Seconds} s");
        Assert.True(executions > 0, $"{parser} was never run");
    }
}
