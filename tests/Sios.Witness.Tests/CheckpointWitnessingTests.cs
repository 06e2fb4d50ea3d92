using System.Text;
using Sios.Ledger.Checkpoints;
using Sios.Ledger.Pipeline;
using Sios.Ledger.Publication;
using Sios.Ledger.Tests.Storage;
using Sios.Signing;
using Sios.Verify;
using Sios.Verify.Crypto;
using Sios.Verify.Entries;
using Sios.Verify.Policy;
using Sios.Verify.Trust;

namespace Sios.Witness.Tests;

/// <summary>
/// The log's witnessing stage against real witnesses (the witness's own handler and durable state, in process): the
/// quorum, the 409 retry, refusals sealed once per change, and cosignatures that do not verify.
/// </summary>
public sealed class CheckpointWitnessingTests : IAsyncLifetime
{
    private const string Origin = "witnessing.test/log";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "sios-witnessing-" + Guid.NewGuid().ToString("N"));
    private readonly List<TestWitness> _witnesses = [];
    private TransparencyLog _log = null!;
    private IReadOnlyList<Sios.Verify.Notes.VerifierKey> _logKeys = [];

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        var signer = new LogSigner(Origin, MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa65), MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa44));
        _logKeys = signer.VerifierKeys;
        _log = await TransparencyLog.OpenAsync(MemoryLogStore.Open(_root), signer);
        await AppendAsync(3);
    }

    public async Task DisposeAsync()
    {
        await _log.DisposeAsync();
        _witnesses.ForEach(w => w.Dispose());
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task AQuorumOfTwoWitnessesCosignsAndTheResultVerifiesUnderThePolicy()
    {
        var (policy, client) = Witnesses("group both all a b\nquorum both\n", true, true);
        await using var stage = new CheckpointWitnessing(policy, client, _log.Reader, () => _log.Latest);
        Assert.True(await stage.RoundAsync());
        var first = stage.Witnessed!;
        Assert.Equal(_log.Latest.Size, first.Size);
        var verified = new LogTrust(new Sios.Verify.Rotation.SignerKeyChain(_logKeys), policy).VerifyCheckpoint(first.Note);
        Assert.Equal(["a", "b"], verified.Witnesses.Select(w => w.Name));

        // Nothing new: no request. Then growth: each witness is asked once, from the size it holds.
        Assert.False(await stage.RoundAsync());
        Assert.Equal(2, client.Requests.Count);
        await AppendAsync(5);
        Assert.True(await stage.RoundAsync());
        Assert.Equal([first.Size, first.Size], client.Requests.Skip(2).Select(r => r.Old));
        Assert.All(stage.Progress, p => Assert.Equal(2, p.Cosigned));
    }

    [Fact]
    public async Task AWitnessThatHoldsALaterSizeIsAskedAgainWithTheProofFromIt()
    {
        var (policy, client) = Witnesses("quorum a\n", true);
        var early = _log.Latest;
        Assert.Equal(200, (await _witnesses[0].AddAsync(HttpWitnessClient.Body(0, [], early.Note))).Status);
        await AppendAsync(4);
        await using var stage = new CheckpointWitnessing(policy, client, _log.Reader, () => _log.Latest);
        Assert.True(await stage.RoundAsync());
        Assert.Equal([0, early.Size], client.Requests.Select(r => r.Old));
        Assert.Equal([409, 200], client.Requests.Select(r => r.Status));
    }

    [Fact]
    public async Task ARefusalIsSealedOncePerChangeNotOncePerRound()
    {
        var (policy, client) = Witnesses("quorum a\n", false);
        var sealedEntries = new List<WitnessRefusedEntry>();
        await using var stage = new CheckpointWitnessing(policy, client, _log.Reader, () => _log.Latest, new WitnessingOptions
        {
            Refused = (entry, ct) =>
            {
                sealedEntries.Add(entry);
                return _log.AppendAsync(entry.Write(), ct);
            },
        });
        for (var round = 0; round < 3; round++)
        {
            Assert.False(await stage.RoundAsync());
            await AppendAsync(1);
        }

        var refusal = Assert.Single(sealedEntries);
        Assert.Equal((TestWitness.Name, 404), (refusal.Witness, refusal.Status));
        Assert.Contains("unknown log origin", refusal.Reason, StringComparison.Ordinal);
        Assert.Null(stage.Witnessed);
        Assert.Equal(3, stage.Progress[0].Refused);
    }

    [Fact]
    public async Task ACosignatureThatDoesNotVerifyIsNotCounted()
    {
        var (policy, client) = Witnesses("quorum a\n", true);
        client.Tamper = true;
        await using var stage = new CheckpointWitnessing(policy, client, _log.Reader, () => _log.Latest);
        Assert.False(await stage.RoundAsync());
        Assert.Null(stage.Witnessed);
        Assert.Contains("does not verify", stage.Progress[0].LastProblem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnreachableWitnessIsCountedAndTheOtherStillMeetsAnyQuorum()
    {
        var (policy, client) = Witnesses("group either any a b\nquorum either\n", true, true);
        client.Down.Add(new Uri("http://b.test/"));
        await using var stage = new CheckpointWitnessing(policy, client, _log.Reader, () => _log.Latest);
        Assert.True(await stage.RoundAsync());
        Assert.Equal(1, stage.Progress[1].Unreachable);
        Assert.DoesNotContain("b.test", Encoding.UTF8.GetString(stage.Witnessed!.Note), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WhileTheQuorumIsShortAWitnessIsNotAskedAgainForWhatItAlreadyCosigned()
    {
        var (policy, client) = Witnesses("group both all a b\nquorum both\n", true, true);
        client.Down.Add(new Uri("http://b.test/"));
        await using var stage = new CheckpointWitnessing(policy, client, _log.Reader, () => _log.Latest);
        for (var round = 0; round < 3; round++)
        {
            Assert.False(await stage.RoundAsync());
        }

        Assert.Single(client.Requests);
        client.Down.Clear();
        Assert.True(await stage.RoundAsync());
        Assert.Equal(2, client.Requests.Count);
        Assert.Equal(2, stage.Witnessed!.Note.AsSpan().Count("\n\u2014 witness.test/w1 "u8));
    }

    private async Task AppendAsync(int count)
    {
        for (var i = 0; i < count; i++)
        {
            await _log.AppendAsync(new OperatorNoteEntry($"note {Guid.NewGuid()}").Write());
        }
    }

    /// <summary>Witnesses a, b, ... (knowing the log or not) and a policy naming their ML-DSA-44 keys, then <paramref name="quorum"/>.</summary>
    private (WitnessPolicy Policy, HandlerClient Client) Witnesses(string quorum, params bool[] known)
    {
        var policy = new StringBuilder();
        var client = new HandlerClient();
        for (var i = 0; i < known.Length; i++)
        {
            var witness = known[i] ? new TestWitness(new WitnessLog(Origin, [.. _logKeys.Select(k => k.ToString())])) : new TestWitness();
            _witnesses.Add(witness);
            var name = ((char)('a' + i)).ToString();
            var url = new Uri($"http://{name}.test/");
            client.Handlers[url] = witness;
            policy.Append($"witness {name} {witness.Keys[0]} {url}\n");
        }

        return (WitnessPolicy.Parse(Encoding.UTF8.GetBytes(policy.Append(quorum).ToString())), client);
    }

    /// <summary>Routes each URL to a witness's handler, as HTTP would, recording what was asked and answered.</summary>
    private sealed class HandlerClient : IWitnessClient
    {
        public Dictionary<Uri, TestWitness> Handlers { get; } = [];

        public HashSet<Uri> Down { get; } = [];

        public List<(Uri Url, long Old, int Status)> Requests { get; } = [];

        public bool Tamper { get; set; }

        public async Task<WitnessReply> AddCheckpointAsync(Uri prefix, long oldSize, IReadOnlyList<byte[]> proof, byte[] note, CancellationToken cancellationToken)
        {
            if (Down.Contains(prefix))
            {
                return new WitnessReply(0, null, [], "connection refused");
            }

            var answer = await Handlers[prefix].AddAsync(HttpWitnessClient.Body(oldSize, proof, note));
            Requests.Add((prefix, oldSize, answer.Status));
            var body = answer.Body;
            if (Tamper && answer.Status == 200)
            {
                // Flip a bit inside the first line's base64 signature: the line still parses, its signature fails.
                body = [.. body];
                var at = Array.IndexOf(body, (byte)'\n') - 5;
                body[at] = body[at] == (byte)'A' ? (byte)'B' : (byte)'A';
            }

            return new WitnessReply(answer.Status, answer.ContentType, body);
        }
    }
}
