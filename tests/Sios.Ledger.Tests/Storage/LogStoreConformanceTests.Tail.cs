using Sios.Ledger.Storage;

namespace Sios.Ledger.Tests.Storage;

/// <summary>The tail seal and tail discard parts of the store contract.</summary>
public abstract partial class LogStoreConformanceTests
{
    [SkippableFact]
    public async Task The_tail_seal_is_replaced_by_each_batch_and_kept_across_reopen()
    {
        await using (var store = await OpenWriterAsync())
        {
            Assert.Null(await store.ReadTailSealAsync());
            await store.WriteBatchAsync(Batch(0, 3) with { TailSeal = [1, 2, 3] });
            await store.WriteBatchAsync(Batch(3, 4) with { TailSeal = [9] });
            var seal = await store.ReadTailSealAsync();
            Assert.Equal(7, seal!.Size);
            Assert.Equal(new byte[] { 9 }, seal.Tag);
        }

        await using (var reopened = Open(LogDirectory))
        {
            Assert.Equal(new TailSeal(7, [9]).Size, (await reopened.ReadTailSealAsync())!.Size);
        }

        // A batch written without a seal leaves none behind: a stale one would vouch for a tree it no longer describes.
        await using var again = await OpenWriterAsync();
        await again.WriteBatchAsync(Batch(7, 1));
        Assert.Null(await again.ReadTailSealAsync());
    }

    [SkippableFact]
    public async Task A_rejected_batch_leaves_the_previous_seal()
    {
        await using var store = await OpenWriterAsync();
        await store.WriteBatchAsync(Batch(0, 2) with { TailSeal = [5] });
        await Assert.ThrowsAsync<InvalidOperationException>(() => store.WriteBatchAsync(Batch(5, 1) with { TailSeal = [6] }));
        Assert.Equal(new byte[] { 5 }, (await store.ReadTailSealAsync())!.Tag);
    }

    [SkippableTheory]
    [InlineData(700, 300)]
    [InlineData(700, 256)]
    [InlineData(600, 0)]
    [InlineData(70_000, 65_536)]
    [InlineData(70_000, 65_793)]
    public async Task Discarding_the_tail_leaves_exactly_the_store_of_the_shorter_log(int stored, int keep)
    {
        await using (var store = await OpenWriterAsync())
        {
            await store.WriteBatchAsync(Batch(0, keep) with { TailSeal = [1] });
            await store.WriteCheckpointAsync(Checkpoint(keep, "kept"));
            await store.WriteBatchAsync(Batch(keep, stored - keep) with { TailSeal = [2] });
            await store.DiscardTailAsync(keep);
            Assert.Null(await store.ReadTailSealAsync());
            await AssertTreeIsAsync(store, keep);
        }

        // Durable, and the store goes on from there as if the tail had never been written.
        await using var reopened = await OpenWriterAsync();
        await AssertTreeIsAsync(reopened, keep);
        await reopened.WriteBatchAsync(Batch(keep, 5));
        await AssertTreeIsAsync(reopened, keep + 5);
    }

    [SkippableFact]
    public async Task A_tail_below_a_signed_checkpoint_is_never_discarded()
    {
        await using var store = await OpenWriterAsync();
        await store.WriteBatchAsync(Batch(0, 10));
        await store.WriteCheckpointAsync(Checkpoint(8, "signed"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => store.DiscardTailAsync(7));
        await AssertTreeIsAsync(store, 10);
        await store.DiscardTailAsync(8);
        await AssertTreeIsAsync(store, 8);
    }

    // Every entry, and every level-0 and level-1 tile (the only levels Batch writes), of a log of exactly `size`.
    private static async Task AssertTreeIsAsync(ILogStore store, long size)
    {
        Assert.Equal(size, await store.GetStoredSizeAsync());
        Assert.Empty(await store.ReadEntriesAsync(size, 1));
        AssertEntries(Math.Max(0, size - 3), Math.Min(3, size), await store.ReadEntriesAsync(Math.Max(0, size - 3), 3));
        for (var level = 0; level < 2; level++)
        {
            var last = (level == 0 ? size : size / TileWidth) / TileWidth;
            for (var index = Math.Max(0, last - 1); index <= last + 1; index++)
            {
                Assert.Equal(ExpectedTile(level, index, size), await store.ReadTileAsync(level, index));
            }
        }
    }
}
