using System.Text;
using Sios.Ledger.Checkpoints;
using Sios.Ledger.Merkle;
using Sios.Ledger.Pipeline;
using Sios.Ledger.Storage;
using Sios.Ledger.Tests.Storage;
using Sios.Signing;
using Sios.Verify.Crypto;
using Sios.Verify.Merkle;

namespace Sios.Ledger.Tests.Pipeline;

/// <summary>
/// Never sign what this log did not sequence: rows appended to the store by someone without the master secret (entries
/// plus tiles, which are only SHA-256) are refused at recovery, while a tail an honest crash left is signed.
/// </summary>
public sealed class TailSealTests
{
    private const string Origin = "test.example/tail";

    private static LogSigner Signer() => new(Origin, MlDsaPrivateKey.FromSeed(MlDsaAlgorithm.MlDsa65, new byte[32]), MlDsaPrivateKey.FromSeed(MlDsaAlgorithm.MlDsa44, new byte[32]));

    private static TransparencyLogOptions Keyed(byte[]? key = null) => new() { TailKey = key ?? TransparencyLogTests.TailKey };

    private static byte[] Entry(string text) => Encoding.UTF8.GetBytes($"{{\"v\":1,\"type\":\"operator.note\",\"text\":\"{text}\"}}");

    private static async Task<(MemoryLogStore Store, string Directory, PublishedCheckpoint Latest)> LogOfAsync(int entries)
    {
        var directory = "mem-" + Guid.NewGuid().ToString("N");
        var store = MemoryLogStore.Open(directory);
        var log = await TransparencyLog.OpenAsync(store, Signer(), Keyed());
        for (var i = 0; i < entries; i++)
        {
            await log.AppendAsync(Entry($"honest {i}"));
        }

        var latest = log.Latest;
        await log.DisposeAsync();
        return (store, directory, latest);
    }

    // What an attacker with write access but no passphrase can do: append rows and their correct tiles.
    private static async Task ForgeTailAsync(string directory, long size, params string[] texts)
    {
        await using var store = MemoryLogStore.Open(directory);
        await store.AcquireWriterAsync();
        var builder = await TreeBuilder.LoadAsync(size, new StoreLogSource(store));
        var entries = texts.Select(t => (ReadOnlyMemory<byte>)Entry(t)).ToList();
        var tiles = builder.Append(entries.Select(e => Rfc6962.LeafHash(e.Span)).ToList());
        var stale = await store.ReadTailSealAsync();
        await store.WriteBatchAsync(new LogBatch(size, entries, tiles) { TailSeal = stale?.Tag });
    }

    [Fact]
    public async Task A_forged_tail_is_refused_and_nothing_is_signed_over_it()
    {
        var (_, directory, latest) = await LogOfAsync(5);
        await ForgeTailAsync(directory, 5, "forged inference", "another");

        var refused = await Assert.ThrowsAsync<LogIntegrityException>(() => TransparencyLog.OpenAsync(MemoryLogStore.Open(directory), Signer(), Keyed()));
        Assert.Contains("indices 5 to 6", refused.Message, StringComparison.Ordinal);
        Assert.Contains("sios log discard-tail", refused.Message, StringComparison.Ordinal);
        var reader = MemoryLogStore.Open(directory);
        Assert.Equal(latest.Size, (await reader.GetLatestCheckpointAsync())!.Size);

        var report = await LogTail.InspectAsync(reader, latest.Size, Origin, TransparencyLogTests.TailKey, default);
        Assert.False(report.Authenticated);
        Assert.Equal(2, report.Count);
    }

    [Fact]
    public async Task A_tail_sealed_under_another_key_is_refused()
    {
        var (_, directory, _) = await LogOfAsync(2);
        var other = Enumerable.Repeat((byte)0xee, TailSeals.Size).ToArray();
        await using (var writer = await TransparencyLog.OpenAsync(MemoryLogStore.Open(directory), Signer(), Keyed(other)))
        {
            // Opening signs nothing new; the stored seal now comes from the other key's next batch.
            await writer.AppendAsync(Entry("under the other key"));
        }

        await ForgeTailAsync(directory, 3, "forged");
        await Assert.ThrowsAsync<LogIntegrityException>(() => TransparencyLog.OpenAsync(MemoryLogStore.Open(directory), Signer(), Keyed()));
    }

    [Fact]
    public async Task A_crash_tail_is_authenticated_and_signed_at_the_next_start()
    {
        var directory = "mem-" + Guid.NewGuid().ToString("N");
        var store = MemoryLogStore.Open(directory);
        var log = await TransparencyLog.OpenAsync(store, Signer(), Keyed());
        await log.AppendAsync(Entry("one"));
        store.Fault = point => point == "checkpoint.before" ? new IOException("crash before the checkpoint") : null;
        await Assert.ThrowsAsync<LogFailedException>(() => log.AppendAsync(Entry("two")));
        await log.DisposeAsync();

        var reopened = MemoryLogStore.Open(directory);
        Assert.True((await LogTail.InspectAsync(reopened, 1, Origin, TransparencyLogTests.TailKey, default)).Authenticated);
        await using var recovered = await TransparencyLog.OpenAsync(reopened, Signer(), Keyed());
        Assert.Equal(2, recovered.Latest.Size);
    }

    [Fact]
    public async Task Without_the_key_a_tail_is_refused_even_when_honest()
    {
        var directory = "mem-" + Guid.NewGuid().ToString("N");
        var store = MemoryLogStore.Open(directory);
        var log = await TransparencyLog.OpenAsync(store, Signer(), Keyed());
        store.Fault = point => point == "checkpoint.before" ? new IOException("crash") : null;
        await Assert.ThrowsAsync<LogFailedException>(() => log.AppendAsync(Entry("one")));
        await log.DisposeAsync();

        var refused = await Assert.ThrowsAsync<LogIntegrityException>(() => TransparencyLog.OpenAsync(MemoryLogStore.Open(directory), Signer()));
        Assert.Contains("without its tail seal key", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_discarded_tail_leaves_a_log_that_goes_on_consistently()
    {
        var (_, directory, latest) = await LogOfAsync(300);
        await ForgeTailAsync(directory, 300, "forged 1", "forged 2", "forged 3");
        await using (var writer = MemoryLogStore.Open(directory))
        {
            await writer.AcquireWriterAsync();
            await writer.DiscardTailAsync(latest.Size);
        }

        await using var log = await TransparencyLog.OpenAsync(MemoryLogStore.Open(directory), Signer(), Keyed());
        var next = await log.AppendAsync(Entry("after the discard"));
        Assert.Equal(300, next.Index);
        var proof = await Sios.Ledger.Proofs.LogProofs.ConsistencyAsync(log.Reader, latest.Size, next.Checkpoint.Size);
        MerkleProofs.VerifyConsistency(latest.Size, next.Checkpoint.Size, proof, latest.Root, next.Checkpoint.Root);
    }
}
