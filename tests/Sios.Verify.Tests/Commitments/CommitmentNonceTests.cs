using System.Security.Cryptography;
using CsCheck;
using Sios.Verify.Commitments;

namespace Sios.Verify.Tests.Commitments;

/// <summary>SPEC §2 nonces: HMAC-SHA256(commitment secret, entry id || ":" || field).</summary>
public sealed class CommitmentNonceTests
{
    // HMAC-SHA256(00..1f, "sios/commitment-nonce/v1"): the commitment secret of master secret 00..1f (Python's hmac).
    private static readonly byte[] CommitmentSecret = Convert.FromHexString("2cd167806670fba77d6f26bdc338d812fe855c099c927dfb554dac63a6f286e8");

    private const string EntryId = "019ac0a2-5f00-7000-8000-000000000001";

    [Fact]
    public void Nonces_match_an_independent_hmac()
    {
        Assert.Equal("nArKTZ1sb48tMH44JJa9coyqfLjYS/W95Cm6Gi8UelU=", Convert.ToBase64String(Commitment.DeriveNonce(CommitmentSecret, EntryId, "request")));
        Assert.Equal("xL7Vcnq0oaPujc+cm6SU37DZsgAqXZNj5Ss5ktDJiVo=", Convert.ToBase64String(Commitment.DeriveNonce(CommitmentSecret, EntryId, "response")));
    }

    [Fact]
    public void A_derived_nonce_opens_its_commitment()
    {
        var content = "{\"model\":\"medic\"}"u8.ToArray();
        var nonce = Commitment.DeriveNonce(CommitmentSecret, EntryId, "request");
        Assert.Equal(Commitment.NonceSize, nonce.Length);
        Assert.True(Commitment.Matches(Commitment.Compute(nonce, content), nonce, content));
    }

    [Fact]
    public void Nonces_differ_by_entry_field_and_secret()
    {
        Gen.Select(Gen.String[1, 40], Gen.String[1, 40], Gen.String[1, 40]).Sample((a, b, field) =>
        {
            var nonce = Commitment.DeriveNonce(CommitmentSecret, a, field);
            return (a == b) == nonce.AsSpan().SequenceEqual(Commitment.DeriveNonce(CommitmentSecret, b, field))
                && !nonce.AsSpan().SequenceEqual(Commitment.DeriveNonce(RandomNumberGenerator.GetBytes(32), a, field));
        });
        Assert.NotEqual(Commitment.DeriveNonce(CommitmentSecret, EntryId, "request"), Commitment.DeriveNonce(CommitmentSecret, EntryId, "response"));
    }

    [Fact]
    public void Empty_inputs_are_refused()
    {
        Assert.Throws<ArgumentException>(() => Commitment.DeriveNonce([], EntryId, "request"));
        Assert.Throws<ArgumentException>(() => Commitment.DeriveNonce(CommitmentSecret, "", "request"));
        Assert.Throws<ArgumentException>(() => Commitment.DeriveNonce(CommitmentSecret, EntryId, ""));
    }
}
