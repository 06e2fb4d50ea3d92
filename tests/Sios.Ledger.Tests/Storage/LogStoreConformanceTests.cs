using System.Security.Cryptography;
using System.Text;
using Sios.Ledger.Storage;

namespace Sios.Ledger.Tests.Storage;

/// <summary>
/// The behaviour every <see cref="ILogStore"/> backend must show. A backend's test project subclasses this and
/// implements <see cref="Open"/>; each test gets a fresh empty directory.
/// </summary>
public abstract partial class LogStoreConformanceTests : IDisposable
{
    /// <summary>Hashes per full tile.</summary>
    protected const int TileWidth = 256;

    protected LogStoreConformanceTests()
    {
        LogDirectory = Path.Combine(Path.GetTempPath(), "sios-store-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(LogDirectory);
    }

    /// <summary>The empty directory this test's log lives in.</summary>
    protected string LogDirectory { get; }

    /// <summary>Opens the log in <paramref name="directory"/>; opening the same directory again sees the same log.</summary>
    protected abstract ILogStore Open(string directory);

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing && Directory.Exists(LogDirectory))
        {
            Directory.Delete(LogDirectory, recursive: true);
        }
    }

    [SkippableFact]
    public async Task Empty_store_holds_nothing()
    {
        await using var store = Open(LogDirectory);

        Assert.Equal(0, await store.GetStoredSizeAsync());
        Assert.Null(await store.GetLatestCheckpointAsync());
        Assert.Null(await store.ReadTileAsync(0, 0));
        Assert.Empty(await store.ReadEntriesAsync(0, 10));
        Assert.Empty(await ToListAsync(store.ReadCheckpointsAsync(0)));
    }

    [SkippableFact]
    public async Task Batches_read_back_exactly()
    {
        await using var store = await OpenWriterAsync();
        await store.WriteBatchAsync(Batch(0, 300));
        await store.WriteBatchAsync(Batch(300, 5));
        await store.WriteBatchAsync(Batch(305, 400));

        Assert.Equal(705, await store.GetStoredSizeAsync());
        AssertEntries(0, 705, await store.ReadEntriesAsync(0, 705));
        AssertEntries(700, 5, await store.ReadEntriesAsync(700, 100));
        AssertEntries(123, 7, await store.ReadEntriesAsync(123, 7));
        Assert.Empty(await store.ReadEntriesAsync(705, 1));
        Assert.Empty(await store.ReadEntriesAsync(10, 0));
        for (var index = 0; index < 3; index++)
        {
            Assert.Equal(ExpectedTile(0, index, 705), await store.ReadTileAsync(0, index));
        }

        Assert.Equal(ExpectedTile(1, 0, 705), await store.ReadTileAsync(1, 0));
        Assert.Null(await store.ReadTileAsync(0, 3));
        Assert.Null(await store.ReadTileAsync(1, 1));
        Assert.Null(await store.ReadTileAsync(2, 0));
    }

    [SkippableFact]
    public async Task Tile_content_is_replaced_by_a_longer_prefix()
    {
        await using var store = await OpenWriterAsync();
        await store.WriteBatchAsync(Batch(0, 10));
        Assert.Equal(10 * 32, (await store.ReadTileAsync(0, 0))!.Length);

        await store.WriteBatchAsync(Batch(10, 20));

        var tile = await store.ReadTileAsync(0, 0);
        Assert.Equal(30 * 32, tile!.Length);
        Assert.Equal(ExpectedTile(0, 0, 30), tile);
    }

    [SkippableFact]
    public async Task Batch_with_wrong_start_is_rejected_with_nothing_visible()
    {
        await using (var store = await OpenWriterAsync())
        {
            await store.WriteBatchAsync(Batch(0, 10));
            await Assert.ThrowsAsync<InvalidOperationException>(() => store.WriteBatchAsync(Batch(5, 10)));
            await AssertLogIsAsync(store, 10);
        }

        await using (var store = await OpenWriterAsync())
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => store.WriteBatchAsync(Batch(11, 3)));
            await AssertLogIsAsync(store, 10);
        }

        await using var reopened = Open(LogDirectory);
        await AssertLogIsAsync(reopened, 10);
    }

    [SkippableFact]
    public async Task Batch_with_malformed_tile_is_rejected_with_nothing_visible()
    {
        await using var store = await OpenWriterAsync();
        var good = Batch(0, 3);
        var bad = good with { Tiles = [new TileWrite(0, 0, new byte[33])] };

        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.WriteBatchAsync(bad));

        Assert.Equal(0, await store.GetStoredSizeAsync());
        Assert.Null(await store.ReadTileAsync(0, 0));
    }

    [SkippableFact]
    public async Task Checkpoints_are_kept_in_order_and_filtered_by_size()
    {
        await using (var store = await OpenWriterAsync())
        {
            await store.WriteBatchAsync(Batch(0, 20));
            foreach (var (size, note) in new[] { (0L, "a"), (5L, "b"), (5L, "b2"), (12L, "c"), (20L, "d") })
            {
                await store.WriteCheckpointAsync(Checkpoint(size, note));
            }

            await Assert.ThrowsAsync<InvalidOperationException>(() => store.WriteCheckpointAsync(Checkpoint(11, "late")));

            AssertCheckpoints([(0, "a"), (5, "b2"), (12, "c"), (20, "d")], await ToListAsync(store.ReadCheckpointsAsync(0)));

            // Each checkpoint links to the one stored before it; re-signing a size keeps its link.
            Assert.Equal<long?>([StoredCheckpoint.First, 0, 5, 12], (await ToListAsync(store.ReadCheckpointsAsync(0))).Select(c => c.Previous));
            Assert.Equal(12, (await store.GetLatestCheckpointAsync())!.Previous);
            AssertCheckpoints([(12, "c"), (20, "d")], await ToListAsync(store.ReadCheckpointsAsync(6)));
            AssertCheckpoints([(20, "d")], await ToListAsync(store.ReadCheckpointsAsync(20)));
            Assert.Empty(await ToListAsync(store.ReadCheckpointsAsync(21)));
        }

        await using var reopened = Open(LogDirectory);
        var latest = await reopened.GetLatestCheckpointAsync();
        Assert.Equal(20, latest!.Size);
        Assert.Equal(Note("d"), latest.Note);
    }

    [SkippableFact]
    public async Task Checkpoint_beyond_the_stored_size_is_rejected()
    {
        await using var store = await OpenWriterAsync();
        await store.WriteBatchAsync(Batch(0, 5));

        await Assert.ThrowsAsync<InvalidOperationException>(() => store.WriteCheckpointAsync(Checkpoint(6, "ahead")));

        Assert.Null(await store.GetLatestCheckpointAsync());
        Assert.Empty(await ToListAsync(store.ReadCheckpointsAsync(0)));
    }

    [SkippableFact]
    public async Task Everything_survives_dispose_and_reopen()
    {
        await using (var store = await OpenWriterAsync())
        {
            await store.WriteBatchAsync(Batch(0, 260));
            await store.WriteCheckpointAsync(Checkpoint(260, "first"));
        }

        await using (var store = await OpenWriterAsync())
        {
            await AssertLogIsAsync(store, 260);
            await store.WriteBatchAsync(Batch(260, 40));
            await store.WriteCheckpointAsync(Checkpoint(300, "second"));
        }

        await using var reopened = Open(LogDirectory);
        await AssertLogIsAsync(reopened, 300);
        AssertCheckpoints([(260, "first"), (300, "second")], await ToListAsync(reopened.ReadCheckpointsAsync(0)));
    }

    [SkippableFact]
    public async Task Writes_without_the_writer_lock_are_rejected()
    {
        await using var store = Open(LogDirectory);

        await Assert.ThrowsAsync<InvalidOperationException>(() => store.WriteBatchAsync(Batch(0, 3)));
        await Assert.ThrowsAsync<InvalidOperationException>(() => store.WriteCheckpointAsync(Checkpoint(0, "x")));

        Assert.Equal(0, await store.GetStoredSizeAsync());
        Assert.Null(await store.GetLatestCheckpointAsync());
    }

    [SkippableFact]
    public async Task Acquiring_the_writer_twice_on_one_instance_is_rejected()
    {
        await using var store = await OpenWriterAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(() => store.AcquireWriterAsync());

        await store.WriteBatchAsync(Batch(0, 1));
        Assert.Equal(1, await store.GetStoredSizeAsync());
    }

    [SkippableFact]
    public async Task Second_writer_is_refused_until_a_sole_first_is_disposed()
    {
        var first = Open(LogDirectory);
        await first.AcquireSoleWriterAsync();
        await first.WriteBatchAsync(Batch(0, 4));
        await using var second = Open(LogDirectory);

        await Assert.ThrowsAsync<LogInUseException>(() => second.AcquireWriterAsync());
        Assert.Equal(4, await second.GetStoredSizeAsync());
        await first.WriteBatchAsync(Batch(4, 4));

        await first.DisposeAsync();
        await second.AcquireWriterAsync();
        await second.WriteBatchAsync(Batch(8, 2));
        await AssertLogIsAsync(second, 10);
    }

    [SkippableFact]
    public async Task Concurrent_readers_see_only_consistent_prefixes()
    {
        const int Batches = 60;
        const int PerBatch = 37;
        await using var writer = await OpenWriterAsync();
        await using var otherInstance = Open(LogDirectory);
        var finished = 0;

        async Task ReadUntilFinished(ILogStore store, int seed)
        {
            var random = new Random(seed);
            long lastSize = 0;
            var roundsAfterFinish = 0;
            while (roundsAfterFinish < 3)
            {
                if (Volatile.Read(ref finished) != 0)
                {
                    roundsAfterFinish++;
                }

                var checkpoint = await store.GetLatestCheckpointAsync();
                var size = await store.GetStoredSizeAsync();
                Assert.True(size >= lastSize, $"stored size went back from {lastSize} to {size}");
                Assert.True(checkpoint is null || checkpoint.Size <= size, "a checkpoint covers entries not yet stored");
                lastSize = size;

                var start = size == 0 ? 0 : random.NextInt64(size);
                var entries = await store.ReadEntriesAsync(start, 50);
                Assert.True(entries.Count >= Math.Min(50, size - start), $"read {entries.Count} entries at {start} of {size}");
                Assert.True(entries.Count <= 50);
                for (var i = 0; i < entries.Count; i++)
                {
                    Assert.Equal(EntryAt(start + i), entries[i]);
                }

                var tileIndex = start / TileWidth;
                var tile = await store.ReadTileAsync(0, tileIndex);
                var covered = Math.Min(TileWidth, size - (tileIndex * TileWidth));
                if (covered > 0)
                {
                    Assert.NotNull(tile);
                    Assert.True(tile.Length >= covered * 32, $"tile (0, {tileIndex}) is shorter than the stored entries");
                    Assert.Equal(ExpectedTile(0, tileIndex, (tileIndex * TileWidth) + (tile.Length / 32)), tile);
                }
            }

            Assert.Equal(Batches * PerBatch, lastSize);
        }

        var readers = Enumerable.Range(0, 4)
            .Select(i => Task.Run(() => ReadUntilFinished(i % 2 == 0 ? writer : otherInstance, i)))
            .ToArray();
        for (var batch = 0; batch < Batches; batch++)
        {
            await writer.WriteBatchAsync(Batch(batch * PerBatch, PerBatch));
            if (batch % 10 == 9)
            {
                await writer.WriteCheckpointAsync(Checkpoint((batch + 1) * PerBatch, $"cp{batch}"));
            }
        }

        Volatile.Write(ref finished, 1);
        await Task.WhenAll(readers);
    }

    [SkippableFact]
    public async Task Large_and_empty_entries_round_trip()
    {
        var large = new byte[65_535];
        new Random(7).NextBytes(large);
        var entries = new ReadOnlyMemory<byte>[] { large, Array.Empty<byte>(), new byte[] { 1 } };
        await using (var store = await OpenWriterAsync())
        {
            await store.WriteBatchAsync(new LogBatch(0, entries, [new TileWrite(0, 0, new byte[3 * 32])]));
        }

        await using var reopened = Open(LogDirectory);
        var read = await reopened.ReadEntriesAsync(0, 3);
        Assert.Equal(3, read.Count);
        Assert.Equal(large, read[0]);
        Assert.Empty(read[1]);
        Assert.Equal(new byte[] { 1 }, read[2]);
    }

    [SkippableFact]
    public async Task Entries_given_as_slices_are_stored_as_the_slice()
    {
        var buffer = Encoding.ASCII.GetBytes("xxhelloyy");
        await using var store = await OpenWriterAsync();

        await store.WriteBatchAsync(new LogBatch(0, [buffer.AsMemory(2, 5)], [new TileWrite(0, 0, new byte[32])]));
        buffer.AsSpan().Clear();

        Assert.Equal("hello"u8.ToArray(), (await store.ReadEntriesAsync(0, 1))[0]);
    }

    [SkippableFact]
    public async Task Cancellation_is_honoured_and_a_cancelled_write_leaves_nothing()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var token = cancelled.Token;
        await using var store = Open(LogDirectory);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.AcquireWriterAsync(token));
        await store.AcquireWriterAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.GetStoredSizeAsync(token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.GetLatestCheckpointAsync(token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.ReadTileAsync(0, 0, token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.ReadEntriesAsync(0, 1, token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ToListAsync(store.ReadCheckpointsAsync(0, token)));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.WriteBatchAsync(Batch(0, 5), token));

        Assert.Equal(0, await store.GetStoredSizeAsync());
        Assert.Null(await store.ReadTileAsync(0, 0));
    }

    [SkippableFact]
    public async Task Cancelled_checkpoint_write_leaves_nothing()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await using var store = await OpenWriterAsync();
        await store.WriteBatchAsync(Batch(0, 5));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => store.WriteCheckpointAsync(Checkpoint(5, "x"), cancelled.Token));

        Assert.Null(await store.GetLatestCheckpointAsync());
    }

    [SkippableFact]
    public async Task Disposed_store_refuses_use_and_tolerates_a_second_dispose()
    {
        var store = await OpenWriterAsync();
        await store.DisposeAsync();
        await store.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => store.GetStoredSizeAsync());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => store.ReadEntriesAsync(0, 1));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => store.WriteBatchAsync(Batch(0, 1)));
    }

    /// <summary>Opens the test's log and takes its writer lock.</summary>
    protected async Task<ILogStore> OpenWriterAsync()
    {
        var store = Open(LogDirectory);
        try
        {
            await store.AcquireWriterAsync();
            return store;
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }

    /// <summary>The deterministic entry at <paramref name="index"/> (16 to 215 bytes).</summary>
    protected static byte[] EntryAt(long index)
    {
        var seed = SHA256.HashData(Encoding.ASCII.GetBytes($"entry {index}"));
        var entry = new byte[16 + (index * 7 % 200)];
        for (var i = 0; i < entry.Length; i++)
        {
            entry[i] = seed[i % seed.Length];
        }

        return entry;
    }

    /// <summary>A stand-in hash for node <paramref name="index"/> at <paramref name="level"/>; stores never inspect it.</summary>
    protected static byte[] HashAt(int level, long index) => SHA256.HashData(Encoding.ASCII.GetBytes($"hash {level} {index}"));

    /// <summary>The content of tile (<paramref name="level"/>, <paramref name="index"/>) for a tree of <paramref name="size"/>, or null.</summary>
    protected static byte[]? ExpectedTile(int level, long index, long size)
    {
        var nodes = size;
        for (var l = 0; l < level; l++)
        {
            nodes /= TileWidth;
        }

        var count = Math.Min(TileWidth, nodes - (index * TileWidth));
        if (count <= 0)
        {
            return null;
        }

        var tile = new byte[count * 32];
        for (var i = 0; i < count; i++)
        {
            HashAt(level, (index * TileWidth) + i).CopyTo(tile, i * 32);
        }

        return tile;
    }

    /// <summary>
    /// The batch appending <paramref name="count"/> entries at <paramref name="start"/>, with every level-0 and level-1
    /// tile whose content changes.
    /// </summary>
    protected static LogBatch Batch(long start, int count)
    {
        var end = start + count;
        var entries = new List<ReadOnlyMemory<byte>>(count);
        for (var i = start; i < end; i++)
        {
            entries.Add(EntryAt(i));
        }

        var tiles = new List<TileWrite>();
        for (var level = 0; level < 2; level++)
        {
            var divisor = level == 0 ? 1 : TileWidth;
            var before = start / divisor;
            var after = end / divisor;
            if (after == before)
            {
                continue;
            }

            for (var index = before / TileWidth; index <= (after - 1) / TileWidth; index++)
            {
                tiles.Add(new TileWrite(level, index, ExpectedTile(level, index, end)!));
            }
        }

        return new LogBatch(start, entries, tiles);
    }

    /// <summary>A checkpoint of <paramref name="size"/> whose note is derived from <paramref name="text"/>.</summary>
    protected static StoredCheckpoint Checkpoint(long size, string text) => new(size, Note(text));

    /// <summary>Note bytes for <paramref name="text"/>.</summary>
    protected static byte[] Note(string text) => Encoding.UTF8.GetBytes($"example.org/log\n{text}\n");

    /// <summary>Checks that <paramref name="store"/> holds exactly the first <paramref name="size"/> entries and their tiles.</summary>
    protected static async Task AssertLogIsAsync(ILogStore store, long size)
    {
        Assert.Equal(size, await store.GetStoredSizeAsync());
        AssertEntries(0, size, await store.ReadEntriesAsync(0, (int)size + 10));
        for (long index = 0; index <= size / TileWidth; index++)
        {
            Assert.Equal(ExpectedTile(0, index, size), await store.ReadTileAsync(0, index));
        }
    }

    protected static void AssertEntries(long start, long count, IReadOnlyList<byte[]> entries)
    {
        Assert.Equal(count, entries.Count);
        for (var i = 0; i < entries.Count; i++)
        {
            Assert.Equal(EntryAt(start + i), entries[i]);
        }
    }

    protected static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items)
        {
            list.Add(item);
        }

        return list;
    }

    private static void AssertCheckpoints((long Size, string Text)[] expected, List<StoredCheckpoint> actual)
    {
        Assert.Equal(expected.Select(e => e.Size), actual.Select(a => a.Size));
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(Note(expected[i].Text), actual[i].Note);
        }
    }
}
