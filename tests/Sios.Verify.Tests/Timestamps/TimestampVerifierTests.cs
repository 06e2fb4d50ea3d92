using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Sios.Tests.Tsa;
using Sios.Verify.Notes;
using Sios.Verify.Timestamps;

namespace Sios.Verify.Tests.Timestamps;

/// <summary>RFC 3161 tokens over checkpoints (SPEC §6), made by openssl acting as the TSA.</summary>
public sealed class TimestampVerifierTests : IAsyncLifetime
{
    private OpenSslTsa? _tsa;

    private OpenSslTsa Tsa => _tsa!;

    public async Task InitializeAsync()
    {
        if (OpenSslTsa.Executable is not null)
        {
            _tsa = await OpenSslTsa.CreateAsync();
        }
    }

    public Task DisposeAsync()
    {
        _tsa?.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>A checkpoint-shaped signed note; the signature is not checked here, only the text is dated.</summary>
    private static byte[] Note(long size, params string[] signers)
    {
        var text = $"tsa.example/log\n{size}\n{Convert.ToBase64String(SHA256.HashData(BitConverter.GetBytes(size)))}\n\n";
        return Encoding.UTF8.GetBytes(text + string.Concat((signers.Length == 0 ? ["tsa.example/log"] : signers).Select((s, i) => SignedNote.FormatSignatureLine(s, (uint)i + 1, new byte[32]))));
    }

    private static TimestampVerifier Trusting(string pem) => TimestampVerifier.FromPem(File.ReadAllText(pem));

    [OpenSslFact]
    public async Task A_token_over_the_note_text_verifies_under_the_CA_or_the_TSA_certificate_and_survives_added_cosignatures()
    {
        var note = Note(5);
        var token = await Tsa.TokenAsync(TimestampVerifier.Imprint(note));
        var before = DateTimeOffset.UtcNow.AddMinutes(-1);

        var stamp = Trusting(Tsa.CaPem).Verify(token, SignedNote.Parse(note));
        Assert.InRange(stamp.Time, before, DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.Equal(TimeSpan.FromSeconds(1), stamp.Accuracy);
        Assert.Contains("SIOS test TSA", stamp.Tsa, StringComparison.Ordinal);
        Assert.Equal(stamp.Time, Trusting(Tsa.TsaPem).Verify(token, SignedNote.Parse(note)).Time);

        // The same tree head with a witness's line added later: the token still dates it.
        var cosigned = Note(5, "tsa.example/log", "witness.example/w");
        Assert.Equal(stamp.Time, Trusting(Tsa.CaPem).Verify(token, SignedNote.Parse(cosigned)).Time);
    }

    [OpenSslFact]
    public async Task A_token_over_another_hash_is_rejected_naming_both_hashes()
    {
        var token = await Tsa.TokenAsync(TimestampVerifier.Imprint(Note(4)));
        var e = Assert.Throws<VerificationException>(() => Trusting(Tsa.CaPem).Verify(token, SignedNote.Parse(Note(5))));
        Assert.Contains("dates another hash (" + Convert.ToHexStringLower(TimestampVerifier.Imprint(Note(4))), e.Message, StringComparison.Ordinal);
        Assert.Contains(Convert.ToHexStringLower(TimestampVerifier.Imprint(Note(5))), e.Message, StringComparison.Ordinal);
    }

    [OpenSslFact]
    public async Task A_token_from_a_TSA_outside_the_given_certificates_is_rejected()
    {
        using var other = await OpenSslTsa.CreateAsync();
        var note = Note(9);
        var token = await other.TokenAsync(TimestampVerifier.Imprint(note));
        var e = Assert.Throws<VerificationException>(() => Trusting(Tsa.CaPem).Verify(token, SignedNote.Parse(note)));
        Assert.Contains("does not chain to one", e.Message, StringComparison.Ordinal);
        Assert.Throws<VerificationException>(() => Trusting(Tsa.TsaPem).Verify(token, SignedNote.Parse(note)));
    }

    [Fact]
    public void A_TSA_certificate_whose_timeStamping_EKU_is_not_critical_is_rejected()
    {
        var note = Note(3);
        var good = OpenSslTsa.TokenSignedWith(TimestampVerifier.Imprint(note), critical: true, out var goodCert);
        using (goodCert)
        {
            // The same construction with a critical EKU verifies, so only the criticality is refused below.
            Assert.Equal("CN=SIOS weak TSA", new TimestampVerifier([goodCert]).Verify(good, SignedNote.Parse(note)).Tsa);
        }

        var weak = OpenSslTsa.TokenSignedWith(TimestampVerifier.Imprint(note), critical: false, out var weakCert);
        using (weakCert)
        {
            var e = Assert.Throws<VerificationException>(() => new TimestampVerifier([weakCert]).Verify(weak, SignedNote.Parse(note)));
            Assert.Contains("non-critical extended key usage", e.Message, StringComparison.Ordinal);
            Assert.Throws<VerificationException>(() => TimestampVerifier.CheckToken(weak, TimestampVerifier.Imprint(note)));
        }
    }

    [OpenSslFact]
    public async Task Garbage_truncated_padded_and_oversized_tokens_are_rejected()
    {
        var note = Note(2);
        var token = await Tsa.TokenAsync(TimestampVerifier.Imprint(note));
        var verifier = Trusting(Tsa.CaPem);
        Assert.Throws<VerificationException>(() => verifier.Verify(Encoding.ASCII.GetBytes("not a token"), SignedNote.Parse(note)));
        Assert.Throws<VerificationException>(() => verifier.Verify(token.AsMemory(0, token.Length - 10), SignedNote.Parse(note)));
        Assert.Throws<VerificationException>(() => verifier.Verify((byte[])[.. token, 0], SignedNote.Parse(note)));
        var big = Assert.Throws<FormatViolationException>(() => verifier.Verify(new byte[TimestampVerifier.MaxTokenBytes + 1], SignedNote.Parse(note)));
        Assert.Contains("over the limit", big.Message, StringComparison.Ordinal);

        // One flipped bit in the TSA's signature value (the token's last bytes) breaks it.
        var flipped = token.ToArray();
        flipped[^1] ^= 1;
        Assert.Throws<VerificationException>(() => verifier.Verify(flipped, SignedNote.Parse(note)));
    }

    [Fact]
    public void A_certificate_file_without_a_certificate_is_a_format_violation()
    {
        Assert.Throws<FormatViolationException>(() => TimestampVerifier.FromPem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"));
        Assert.Throws<ArgumentException>(() => new TimestampVerifier([]));
    }
}
