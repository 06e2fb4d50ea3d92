using Sios.Ledger.Checkpoints;
using Sios.Signing;
using Sios.Verify.Crypto;
using Sios.Verify.Merkle;
using Sios.Verify.Notes;
using Sios.Witness;

namespace Sios.Witness.Tests;

/// <summary>A witness that knows only a SIOS log's Ed25519 key (SPEC §6) cosigns the log's three-line checkpoints.</summary>
public sealed class Ed25519LogKeyTests
{
    private const string Origin = "ed25519.test/log";

    private static LogSigner Signer() =>
        new(Origin, MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa65), MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa44), ed25519: Ed25519PrivateKey.Generate());

    [Fact]
    public async Task A_checkpoint_is_accepted_on_the_log_s_ed25519_vkey_alone()
    {
        using var signer = Signer();
        var note = signer.Sign(0, Rfc6962.EmptyRoot);
        using var witness = new TestWitness(new WitnessLog(Origin, [signer.Ed25519Key!.ToString()]));
        var response = await witness.AddAsync(TestLog.Body(0, [], note));
        Assert.Equal(200, response.Status);
        new NoteVerifier([signer.Ed25519Key, .. witness.Keys]).Verify([.. note, .. response.Body]);
    }

    [Fact]
    public async Task Another_ed25519_key_under_the_same_origin_is_403()
    {
        using var signer = Signer();
        using var other = Signer();
        using var witness = new TestWitness(new WitnessLog(Origin, [other.Ed25519Key!.ToString()]));
        Assert.Equal(403, (await witness.AddAsync(TestLog.Body(0, [], signer.Sign(0, Rfc6962.EmptyRoot)))).Status);
    }
}
