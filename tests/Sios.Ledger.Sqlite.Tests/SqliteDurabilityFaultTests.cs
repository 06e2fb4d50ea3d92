using System.Text;
using Sios.Ledger.Checkpoints;
using Sios.Ledger.Pipeline;
using Sios.Ledger.Proofs;
using Sios.Ledger.Storage;
using Sios.Signing;
using Sios.Verify.Audit;
using Sios.Verify.Checkpoints;
using Sios.Verify.Crypto;
using Sios.Verify.Merkle;

namespace Sios.Ledger.Sqlite.Tests;

/// <summary>
/// The real SQLite store failing at each durability point (through a wrapper that fails just before or just after the
/// store's own durable write, which is where a failed fsync surfaces: as an error from the commit): the log stops,
/// and reopening the same database recovers with every acknowledged entry, a consistent tree, and no checkpoint
/// over data that was not durable.
/// </summary>
public sealed class SqliteDurabilityFaultTests : IDisposable
{
    private const string Origin = "fault.sios.test/log";
    private readonly string _directory = Directory.CreateTempSubdirectory("sios-sqlite-fault-").FullName;

    private string Database => Path.Combine(_directory, "log.db");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static LogSigner Signer() =>
        new(Origin, MlDsaPrivateKey.FromSeed(MlDsaAlgorithm.MlDsa65, new byte[32]), MlDsaPrivateKey.FromSeed(MlDsaAlgorithm.MlDsa44, new byte[32]));

    private static readonly TransparencyLogOptions Options = new() { TailKey = new byte[TailSeals.Size] };

    private static byte[] Entry(int i) => Encoding.UTF8.GetBytes($"{{\"v\":1,\"type\":\"operator.note\",\"text\":\"entry {i}\"}}");

    [Theory]
    [InlineData("batch.before", 5)]
    [InlineData("batch.after", 6)]
    [InlineData("checkpoint.before", 6)]
    [InlineData("checkpoint.after", 6)]
    public async Task A_failed_durable_write_stops_the_log_and_reopening_recovers_everything_acknowledged(string point, long sizeAfterRecovery)
    {
        var faulty = new FaultingStore(SqliteLogStore.Open(Database));
        var log = await TransparencyLog.OpenAsync(faulty, Signer(), Options);
        var acknowledged = new List<AppendResult>();
        for (var i = 0; i < 5; i++)
        {
            acknowledged.Add(await log.AppendAsync(Entry(i)));
        }

        var before = log.Latest;
        faulty.FailAt = point;
        await Assert.ThrowsAsync<LogFailedException>(() => log.AppendAsync(Entry(5)));
        Assert.Throws<LogFailedException>(() => { _ = log.AppendAsync(Entry(6)); });
        await log.DisposeAsync();

        var store = SqliteLogStore.Open(Database);
        await using (var recovered = await TransparencyLog.OpenAsync(store, Signer(), Options))
        {
            Assert.Equal(sizeAfterRecovery, recovered.Latest.Size);
            var proof = await LogProofs.ConsistencyAsync(store, before.Size, recovered.Latest.Size);
            MerkleProofs.VerifyConsistency(before.Size, recovered.Latest.Size, proof, before.Root, recovered.Latest.Root);
            var entries = await store.ReadEntriesAsync(0, 5);
            foreach (var ack in acknowledged)
            {
                Assert.Equal(Entry((int)ack.Index), entries[(int)ack.Index]);
            }

            Assert.Equal(sizeAfterRecovery, (await recovered.AppendAsync(Entry(7))).Index);
        }

        await using var reader = SqliteLogStore.Open(Database);
        var verifier = CheckpointVerifier.ForLogKeys(Signer().VerifierKeys);
        var claims = new List<RootClaim>();
        await foreach (var checkpoint in reader.ReadCheckpointsAsync(0))
        {
            claims.Add(new RootClaim(checkpoint.Size, verifier.Verify(checkpoint.Note).Checkpoint.Root, $"checkpoint {checkpoint.Size}"));
        }

        var audit = await new LogAuditor(new StoreLogSource(reader)).AuditAsync(sizeAfterRecovery + 1, claims);
        Assert.True(audit.Intact, audit.Problem);
    }

    /// <summary>The real store, failing once at a named point: before or after its durable batch or checkpoint write.</summary>
    private sealed class FaultingStore(SqliteLogStore inner) : ILogStore
    {
        public string? FailAt { get; set; }

        public Task AcquireWriterAsync(CancellationToken cancellationToken = default) => inner.AcquireWriterAsync(cancellationToken);

        public async Task WriteBatchAsync(LogBatch batch, CancellationToken cancellationToken = default)
        {
            Fail("batch.before");
            await inner.WriteBatchAsync(batch, cancellationToken);
            Fail("batch.after");
        }

        public async Task WriteCheckpointAsync(StoredCheckpoint checkpoint, CancellationToken cancellationToken = default)
        {
            Fail("checkpoint.before");
            await inner.WriteCheckpointAsync(checkpoint, cancellationToken);
            Fail("checkpoint.after");
        }

        public Task<long> GetStoredSizeAsync(CancellationToken cancellationToken = default) => inner.GetStoredSizeAsync(cancellationToken);

        public Task<StoredCheckpoint?> GetLatestCheckpointAsync(CancellationToken cancellationToken = default) => inner.GetLatestCheckpointAsync(cancellationToken);

        public IAsyncEnumerable<StoredCheckpoint> ReadCheckpointsAsync(long fromSize, CancellationToken cancellationToken = default) => inner.ReadCheckpointsAsync(fromSize, cancellationToken);

        public Task<byte[]?> ReadTileAsync(int level, long index, CancellationToken cancellationToken = default) => inner.ReadTileAsync(level, index, cancellationToken);

        public Task<IReadOnlyList<byte[]>> ReadEntriesAsync(long start, int count, CancellationToken cancellationToken = default) => inner.ReadEntriesAsync(start, count, cancellationToken);

        public Task<TailSeal?> ReadTailSealAsync(CancellationToken cancellationToken = default) => inner.ReadTailSealAsync(cancellationToken);

        public Task DiscardTailAsync(long size, CancellationToken cancellationToken = default) => inner.DiscardTailAsync(size, cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();

        private void Fail(string point)
        {
            if (FailAt == point)
            {
                FailAt = null;
                throw new IOException($"injected: fsync failed at {point}");
            }
        }
    }
}
