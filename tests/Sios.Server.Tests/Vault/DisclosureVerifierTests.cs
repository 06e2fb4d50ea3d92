using Sios.Ledger.Checkpoints;
using Sios.Ledger.Entries;
using Sios.Ledger.Pipeline;
using Sios.Ledger.Proofs;
using Sios.Ledger.Tests.Storage;
using Sios.Server.Tests.Access;
using Sios.Signing;
using Sios.Verify;
using Sios.Verify.Commitments;
using Sios.Verify.Crypto;
using Sios.Verify.Disclosure;
using Sios.Verify.Entries;

namespace Sios.Server.Tests.Vault;

/// <summary>The offline disclosure check over a real log's receipts, without a server.</summary>
public sealed class DisclosureVerifierTests : IAsyncLifetime, IDisposable
{
    private static readonly byte[] Secret = Enumerable.Repeat((byte)7, 32).ToArray();
    private readonly TempFolder _temp = new();
    private MemoryLogStore _store = null!;
    private TransparencyLog _log = null!;
    private IReadOnlyList<Sios.Verify.Notes.VerifierKey> _keys = [];

    public async Task InitializeAsync()
    {
        // The log owns its signer and disposes it.
        var signer = new LogSigner("disclosure.test/log", MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa65), MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa44));
        _keys = signer.VerifierKeys;
        _store = MemoryLogStore.Open(_temp.Path);
        _log = await TransparencyLog.OpenAsync(_store, signer);
    }

    public Task DisposeAsync() => _log.DisposeAsync().AsTask();

    public void Dispose() => _temp.Dispose();

    private async Task<(byte[] Receipt, DisclosedContent Content)> AnswerAsync(string type, byte[] request, byte[] response, bool commitRequest = true)
    {
        var id = EntryJson.NewId();
        var requestNonce = Commitment.DeriveNonce(Secret, id, "request");
        var responseNonce = Commitment.DeriveNonce(Secret, id, "response");
        var requestCommitment = commitRequest ? Commitment.Compute(requestNonce, request) : null;
        var responseCommitment = Commitment.Compute(responseNonce, response);
        var entry = type == EntryTypes.Inference
            ? new InferenceEntry("key:test", new BrainRef("tiny"), requestCommitment, responseCommitment, null, "stop", false, null, "chat.completions", 200).Write(id)
            : EntryJson.Write(type, "key:test", id, json => json.WriteString("response", responseCommitment));
        var index = (await _log.AppendAsync(entry)).Index;
        var receipt = await LogProofs.ReceiptAsync(_store, index);
        return (receipt, new DisclosedContent(request, response, requestNonce, responseNonce, entry));
    }

    private DisclosureVerifier Verifier() => new(_keys);

    [Fact]
    public async Task Matching_bytes_verify_and_any_other_bytes_do_not()
    {
        var (receipt, content) = await AnswerAsync("inference", "{\"q\":1}"u8.ToArray(), "{\"a\":2}"u8.ToArray());
        var verified = Verifier().Verify(receipt, content);
        Assert.Equal("tiny", verified.Brain);
        Assert.False(verified.Stream);

        var request = Assert.Throws<VerificationException>(() => Verifier().Verify(receipt, content with { Request = "{\"q\":3}"u8.ToArray() }));
        Assert.Contains("request.bin", request.Message, StringComparison.Ordinal);
        var response = Assert.Throws<VerificationException>(() => Verifier().Verify(receipt, content with { Response = [.. content.Response, (byte)' '] }));
        Assert.Contains("response.bin", response.Message, StringComparison.Ordinal);
        var nonce = Assert.Throws<VerificationException>(() => Verifier().Verify(receipt, content with { ResponseNonce = content.RequestNonce }));
        Assert.Contains("response.bin", nonce.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_entry_that_is_not_an_answer_is_refused()
    {
        var (receipt, content) = await AnswerAsync("operator.note", "a"u8.ToArray(), "b"u8.ToArray());
        var e = Assert.Throws<VerificationException>(() => Verifier().Verify(receipt, content));
        Assert.Contains("not an 'inference' entry", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_answer_without_a_request_commitment_discloses_nothing()
    {
        var (receipt, content) = await AnswerAsync("inference", "a"u8.ToArray(), "b"u8.ToArray(), commitRequest: false);
        var e = Assert.Throws<VerificationException>(() => Verifier().Verify(receipt, content));
        Assert.Contains("no request commitment", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_receipt_under_other_keys_or_with_another_entry_is_refused()
    {
        var (receipt, content) = await AnswerAsync("inference", "a"u8.ToArray(), "b"u8.ToArray());
        using var stranger = new LogSigner("disclosure.test/log", MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa65), MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa44));
        var keys = Assert.Throws<VerificationException>(() => new DisclosureVerifier(stranger.VerifierKeys).Verify(receipt, content));
        Assert.Contains("receipt does not verify", keys.Message, StringComparison.Ordinal);

        var (_, other) = await AnswerAsync("inference", "a"u8.ToArray(), "b"u8.ToArray());
        var entry = Assert.Throws<VerificationException>(() => Verifier().Verify(receipt, content with { Entry = other.Entry }));
        Assert.Contains("entry.json", entry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_with_a_missing_or_malformed_file_is_refused_by_name()
    {
        var folder = _temp.File("disclosure");
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, DisclosedContent.RequestFile), [1]);
        File.WriteAllBytes(Path.Combine(folder, DisclosedContent.ResponseFile), [2]);
        File.WriteAllText(Path.Combine(folder, DisclosedContent.RequestNonceFile), Convert.ToBase64String(new byte[32]) + "\n");
        Assert.Contains(DisclosedContent.ResponseNonceFile, Assert.Throws<FormatViolationException>(() => DisclosedContent.ReadFolder(folder)).Message, StringComparison.Ordinal);

        File.WriteAllText(Path.Combine(folder, DisclosedContent.ResponseNonceFile), Convert.ToBase64String(new byte[31]));
        Assert.Contains("31 bytes", Assert.Throws<FormatViolationException>(() => DisclosedContent.ReadFolder(folder)).Message, StringComparison.Ordinal);

        File.WriteAllText(Path.Combine(folder, DisclosedContent.ResponseNonceFile), Convert.ToBase64String(new byte[32]));
        var read = DisclosedContent.ReadFolder(folder);
        Assert.Null(read.Entry);
        Assert.Equal([2], read.Response);
    }
}
