using System.Text;
using CsCheck;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Security;
using Sios.Verify.Attestations;
using Sios.Verify.Checkpoints;
using Sios.Verify.Notes;

namespace Sios.Verify.Tests.Attestations;

/// <summary>The sios-attestation/v1 statement and its verifier: round trips, tampering, wrong keys, malformed text.</summary>
public sealed class AttestationVerifierTests
{
    private const string Origin = "attest.example/log";
    private static readonly string Pin = "sha256:" + new string('a', 64);

    private sealed class Signer
    {
        private readonly MLDsaPrivateKeyParameters _private;

        public Signer()
        {
            var generator = new MLDsaKeyPairGenerator();
            generator.Init(new MLDsaKeyGenerationParameters(new SecureRandom(), MLDsaParameters.ml_dsa_65));
            var pair = generator.GenerateKeyPair();
            _private = (MLDsaPrivateKeyParameters)pair.Private;
            Key = VerifierKey.Create(Origin, NoteKeyKind.MlDsa65, ((MLDsaPublicKeyParameters)pair.Public).GetEncoded());
        }

        public VerifierKey Key { get; }

        public byte[] Sign(string text)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            var signer = new MLDsaSigner(MLDsaParameters.ml_dsa_65, deterministic: false);
            signer.Init(true, _private);
            signer.BlockUpdate(bytes, 0, bytes.Length);
            return Encoding.UTF8.GetBytes(text + "\n" + SignedNote.FormatSignatureLine(Origin, Key.KeyId, signer.GenerateSignature()));
        }
    }

    private static readonly Signer Log = new();
    private static readonly Signer Other = new();

    private static AttestationStatement Statement(IReadOnlyList<AttestedBrain>? brains = null) => new()
    {
        Origin = Origin,
        Time = new DateTimeOffset(2026, 11, 26, 10, 0, 0, 123, TimeSpan.Zero),
        LogSize = 42,
        LogRoot = new byte[32],
        Version = "1.2.3+abc",
        Components = [new("Sios.Verify.dll", Pin), new("sios.dll", "sha256:" + new string('b', 64))],
        Config = "sha256:" + new string('c', 64),
        Egress = ["10.0.0.7", "gpu1.lan"],
        Listen = ["http://127.0.0.1:8080"],
        Signers = [Log.Key],
        Brains = brains ??
        [
            AttestedBrain.Local("demo", Pin, null, DiskState.Ok),
            AttestedBrain.Local("medic", Pin, "sha256:" + new string('d', 64), DiskState.Changed),
            AttestedBrain.Remote("remote", "http://gpu1.lan:8080/", "llama 3 70b"),
        ],
    };

    [Fact]
    public void Text_is_documented_lines_that_parse_back_byte_for_byte()
    {
        var text = Statement().ToText();
        Assert.StartsWith("sios-attestation/v1\norigin attest.example/log\ntime 2026-11-26T10:00:00.123Z\nlog-size 42\n", text, StringComparison.Ordinal);
        Assert.Contains($"\nbrain medic weights {Pin} adapter sha256:{new string('d', 64)} disk changed\n", text, StringComparison.Ordinal);
        Assert.Contains("\nbrain remote upstream http://gpu1.lan:8080/ llama 3 70b\n", text, StringComparison.Ordinal);
        Assert.Contains("\negress 10.0.0.7\negress gpu1.lan\nlisten http://127.0.0.1:8080\nsigner ml-dsa-65 attest.example/log+", text, StringComparison.Ordinal);
        var parsed = AttestationStatement.Parse(text);
        Assert.Equal(text, parsed.ToText());
        Assert.Equal(DiskState.Changed, parsed.Brains[1].Disk);
        Assert.Equal("llama 3 70b", parsed.Brains[2].UpstreamModel);
    }

    [Fact]
    public void No_egress_is_written_as_egress_none_and_read_back_as_empty()
    {
        var statement = new AttestationStatement
        {
            Origin = Origin, Time = DateTimeOffset.UnixEpoch, LogSize = 0, LogRoot = new byte[32], Version = "v", Components = [],
            Config = Pin, Egress = [], Listen = [], Signers = [Log.Key], Brains = [],
        };
        var text = statement.ToText();
        Assert.Contains("\negress none\n", text, StringComparison.Ordinal);
        Assert.Empty(AttestationStatement.Parse(text).Egress);
    }

    [Fact]
    public void Signed_statement_verifies_with_the_ml_dsa_65_vkey_alone()
    {
        var text = Statement().ToText();
        var verified = new AttestationVerifier(VerifierKey.Parse(Log.Key.ToString())).Verify(Log.Sign(text));
        Assert.Equal(text, verified.Note.Text);
        Assert.Equal(3, verified.Statement.Brains.Count);
        Assert.Equal(AttestationStatement.Digest(Encoding.UTF8.GetBytes(text)), verified.Sha256);
    }

    [Fact]
    public void Every_one_byte_edit_of_the_text_fails()
    {
        var note = Log.Sign(Statement().ToText());
        var textLength = Statement().ToText().Length;
        var verifier = new AttestationVerifier(Log.Key);
        for (var i = 0; i < textLength; i += 7)
        {
            var edited = (byte[])note.Clone();
            edited[i] = edited[i] == (byte)'0' ? (byte)'1' : (byte)'0';
            Assert.ThrowsAny<VerificationException>(() => verifier.Verify(edited));
        }
    }

    [Fact]
    public void A_different_key_with_the_same_origin_fails()
    {
        var note = Log.Sign(Statement().ToText());
        var e = Assert.ThrowsAny<VerificationException>(() => new AttestationVerifier(Other.Key).Verify(note));
        Assert.Contains("not signed by", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_checkpoint_signed_by_the_same_key_is_not_an_attestation()
    {
        var checkpoint = new Checkpoint(Origin, 42, new byte[32]).ToNoteText();
        Assert.Throws<FormatViolationException>(() => new AttestationVerifier(Log.Key).Verify(Log.Sign(checkpoint)));
    }

    [Fact]
    public void A_statement_naming_other_signers_than_its_key_is_rejected()
    {
        var foreign = new AttestationStatement
        {
            Origin = Origin, Time = DateTimeOffset.UnixEpoch, LogSize = 0, LogRoot = new byte[32], Version = "v", Components = [],
            Config = Pin, Egress = [], Listen = [], Signers = [Other.Key], Brains = [],
        };
        var e = Assert.Throws<VerificationException>(() => new AttestationVerifier(Log.Key).Verify(Log.Sign(foreign.ToText())));
        Assert.Contains("does not list the key", e.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string> Malformations => new()
    {
        { "log-size 42\n", "log-size 042\n", "leading zeroes" },
        { "config sha256:", "config  sha256:", "not sha256" },
        { "disk changed\n", "disk gone\n", "not ok, changed or missing" },
        { "component Sios.Verify.dll sha256:a", "component Sios.Verify.dll sha256:b", "not the digest of the component lines" },
        { "egress 10.0.0.7\negress gpu1.lan\n", "egress gpu1.lan\negress 10.0.0.7\n", "sorted and unique" },
        { "sios-attestation/v1\n", "sios-attestation/v2\n", "line 1 must be" },
        { "time 2026-11-26T10:00:00.123Z\n", "time 2026-11-26T10:00:00Z\n", "RFC 3339" },
        { "listen http://127.0.0.1:8080\n", "listen http://127.0.0.1:8080\nbogus line\n", "is not expected here" },
        { "\nbrain medic ", "\nbrain demo ", "sorted and unique" },
    };

    [Theory]
    [MemberData(nameof(Malformations))]
    public void Malformed_text_is_rejected_with_a_reason(string from, string to, string reason)
    {
        var text = Statement().ToText();
        Assert.Contains(from, text, StringComparison.Ordinal);
        var bad = ReplaceFirst(text, from, to);
        var e = Assert.Throws<FormatViolationException>(() => new AttestationVerifier(Log.Key).Verify(Log.Sign(bad)));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Oversized_input_is_refused_before_any_cryptography()
    {
        var verifier = new AttestationVerifier(Log.Key, new AttestationLimits(MaxBytes: 1000));
        var e = Assert.Throws<FormatViolationException>(() => verifier.Verify(Log.Sign(Statement().ToText())));
        Assert.Contains("over the limit", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Only_an_ml_dsa_65_key_can_verify_attestations()
    {
        var cosigner = VerifierKey.Create(Origin, NoteKeyKind.Ed25519, new byte[32]);
        Assert.Throws<ArgumentException>(() => new AttestationVerifier(cosigner));
    }

    [Fact]
    public void Arbitrary_text_is_rejected_with_a_typed_exception_only()
    {
        var text = Statement().ToText();
        Gen.Select(Gen.Int[0, text.Length - 1], Gen.Int[0, 40], Gen.String[0, 8]).Sample((at, cut, insert) =>
        {
            var mutated = text[..at] + insert + text[Math.Min(text.Length, at + cut)..];
            try
            {
                AttestationStatement.Parse(mutated);
                return mutated == text || AttestationStatement.Parse(mutated).ToText() == mutated;
            }
            catch (FormatViolationException)
            {
                return true;
            }
        }, iter: 500);
    }

    private static string ReplaceFirst(string text, string from, string to)
    {
        var i = text.IndexOf(from, StringComparison.Ordinal);
        return text[..i] + to + text[(i + from.Length)..];
    }
}
