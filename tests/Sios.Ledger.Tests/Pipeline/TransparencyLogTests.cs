using System.Text;
using Sios.Ledger.Checkpoints;
using Sios.Ledger.Pipeline;
using Sios.Ledger.Proofs;
using Sios.Ledger.Storage;
using Sios.Ledger.Tests.Storage;
using Sios.Signing;
using Sios.Verify.Audit;
using Sios.Verify.Checkpoints;
using Sios.Verify.Crypto;
using Sios.Verify.Merkle;
using Sios.Verify.Receipts;

namespace Sios.Ledger.Tests.Pipeline;

public sealed class TransparencyLogTests
{
    private const string Origin = "test.example/pipeline";
    private static readonly byte[] Seed65 = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
    private static readonly byte[] Seed44 = Enumerable.Range(2, 32).Select(i => (byte)i).ToArray();

    private static LogSigner Signer() => new(Origin, MlDsaPrivateKey.FromSeed(MlDsaAlgorithm.MlDsa65, Seed65), MlDsaPrivateKey.FromSeed(MlDsaAlgorithm.MlDsa44, Seed44));

    private static string NewDirectory() => "mem-" + Guid.NewGuid().ToString("N");

    private static byte[] Entry(int i) => Encoding.UTF8.GetBytes($"{{\"v\":1,\"type\":\"operator.note\",\"text\":\"entry {i}\"}}");

    /// <summary>The tail seal key these tests' logs use.</summary>
    internal static readonly byte[] TailKey = Enumerable.Range(7, 32).Select(i => (byte)i).ToArray();

    private static Task<TransparencyLog> OpenAsync(ILogStore store, TransparencyLogOptions? options = null) =>
        TransparencyLog.OpenAsync(store, Signer(), options ?? new TransparencyLogOptions { TailKey = TailKey });

    private static async Task AssertIntactAsync(MemoryLogStore store, long expectedSize)
    {
        var verifier = CheckpointVerifier.ForLogKeys(Signer().VerifierKeys);
        var claims = new List<RootClaim>();
        await foreach (var cp in store.ReadCheckpointsAsync(0))
        {
            claims.Add(new RootClaim(cp.Size, verifier.Verify(cp.Note).Checkpoint.Root, $"checkpoint {cp.Size}"));
        }

        Assert.Equal(expectedSize, claims[^1].Size);
        var result = await new LogAuditor(new StoreLogSource(store)).AuditAsync(expectedSize, claims);
        Assert.True(result.Intact, result.Problem);
    }

    [Fact]
    public async Task A_new_log_signs_an_empty_checkpoint()
    {
        await using var log = await OpenAsync(MemoryLogStore.Open(NewDirectory()));
        Assert.Equal(0, log.Latest.Size);
        Assert.Equal(Rfc6962.EmptyRoot.ToArray(), log.Latest.Root);
        Assert.Equal(0, CheckpointVerifier.ForLogKeys(Signer().VerifierKeys).Verify(log.Latest.Note).Checkpoint.Size);
    }

    [Fact]
    public async Task Concurrent_appends_get_contiguous_indices_each_under_a_durable_signed_checkpoint()
    {
        var store = MemoryLogStore.Open(NewDirectory());
        await using var log = await OpenAsync(store);
        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(t => Task.Run(async () =>
        {
            var mine = new List<(int, AppendResult)>();
            for (var i = 0; i < 100; i++)
            {
                var n = t * 100 + i;
                var result = await log.AppendAsync(Entry(n));
                var durable = await store.GetLatestCheckpointAsync();
                Assert.True(durable!.Size > result.Index, "acknowledged before a durable checkpoint covered the entry");
                Assert.True(result.Checkpoint.Size > result.Index);
                mine.Add((n, result));
            }

            return mine;
        })));

        var all = results.SelectMany(r => r).ToList();
        Assert.Equal(Enumerable.Range(0, 1600).Select(i => (long)i), all.Select(r => r.Item2.Index).Order());
        var stored = await store.ReadEntriesAsync(0, 1600);
        foreach (var (n, result) in all)
        {
            Assert.Equal(Entry(n), stored[(int)result.Index]);
        }

        var verifier = new ReceiptVerifier(Signer().VerifierKeys);
        foreach (var (n, result) in all.Where((_, i) => i % 53 == 0))
        {
            var receipt = verifier.Verify(await LogProofs.ReceiptAsync(store, result.Index));
            Assert.Equal(Entry(n), receipt.Entry);
        }

        await AssertIntactAsync(store, 1600);
    }

    [Fact]
    public async Task A_full_queue_is_refused_at_once_with_a_typed_backpressure_error()
    {
        var store = MemoryLogStore.Open(NewDirectory());
        await using var log = await OpenAsync(store, new TransparencyLogOptions { QueueCapacity = 4, MaxBatchSize = 1 });
        using var gate = new ManualResetEventSlim(false);
        using var reached = new ManualResetEventSlim(false);
        store.Fault = point =>
        {
            if (point == "batch.before")
            {
                reached.Set();
                gate.Wait();
            }

            return null;
        };

        var accepted = new List<Task<AppendResult>> { log.AppendAsync(Entry(0)) };
        // The first entry has left the queue once the sequencer is held inside its batch write (a fixed delay flakes under load).
        Assert.True(reached.Wait(TimeSpan.FromSeconds(30)), "the sequencer never reached the batch write");
        for (var i = 1; i <= 4; i++)
        {
            accepted.Add(log.AppendAsync(Entry(i)));
        }

        var refused = Assert.Throws<LogBackpressureException>(() => { _ = log.AppendAsync(Entry(99)); });
        Assert.True(refused.RetryAfter > TimeSpan.Zero);
        gate.Set();
        store.Fault = null;
        Assert.Equal([0L, 1, 2, 3, 4], (await Task.WhenAll(accepted)).Select(r => r.Index).Order());
    }

    [Theory]
    [InlineData("batch.before", 5)]
    [InlineData("batch.after", 6)]
    [InlineData("checkpoint.before", 6)]
    [InlineData("checkpoint.after", 6)]
    public async Task A_fault_at_any_durability_point_stops_the_log_and_a_restart_recovers_with_nothing_acknowledged_lost(string point, long sizeAfterRecovery)
    {
        var directory = NewDirectory();
        var store = MemoryLogStore.Open(directory);
        var log = await OpenAsync(store);
        var acknowledged = new List<AppendResult>();
        for (var i = 0; i < 5; i++)
        {
            acknowledged.Add(await log.AppendAsync(Entry(i)));
        }

        var before = log.Latest;
        store.Fault = p => p == point ? new IOException($"injected fault at {p}") : null;
        var failed = await Assert.ThrowsAsync<LogFailedException>(() => log.AppendAsync(Entry(5)));
        Assert.Contains("injected fault", failed.Message, StringComparison.Ordinal);
        Assert.Throws<LogFailedException>(() => { _ = log.AppendAsync(Entry(6)); });
        await log.DisposeAsync();

        var reopened = MemoryLogStore.Open(directory);
        await using var recovered = await OpenAsync(reopened);
        Assert.Equal(sizeAfterRecovery, recovered.Latest.Size);
        var proof = await LogProofs.ConsistencyAsync(reopened, before.Size, recovered.Latest.Size);
        MerkleProofs.VerifyConsistency(before.Size, recovered.Latest.Size, proof, before.Root, recovered.Latest.Root);
        var entries = await reopened.ReadEntriesAsync(0, 5);
        foreach (var ack in acknowledged)
        {
            Assert.Equal(Entry((int)ack.Index), entries[(int)ack.Index]);
        }

        var next = await recovered.AppendAsync(Entry(7));
        Assert.Equal(sizeAfterRecovery, next.Index);
        await AssertIntactAsync(reopened, sizeAfterRecovery + 1);
    }

    [Fact]
    public async Task Entries_outside_1_to_65535_bytes_are_refused()
    {
        await using var log = await OpenAsync(MemoryLogStore.Open(NewDirectory()));
        Assert.Throws<ArgumentException>(() => { _ = log.AppendAsync(Array.Empty<byte>()); });
        Assert.Throws<ArgumentException>(() => { _ = log.AppendAsync(new byte[65_536]); });
        Assert.Equal(0, (await log.AppendAsync(new byte[65_535])).Index);
    }

    [Fact]
    public async Task Disposing_seals_everything_already_queued()
    {
        var directory = NewDirectory();
        var log = await OpenAsync(MemoryLogStore.Open(directory));
        var appends = Enumerable.Range(0, 500).Select(i => log.AppendAsync(Entry(i))).ToList();
        await log.DisposeAsync();
        Assert.Equal(500, (await Task.WhenAll(appends)).Length);
        await AssertIntactAsync(MemoryLogStore.Open(directory), 500);
    }
}
