using Sios.Ledger.Storage;

namespace Sios.Ledger.Tests.Storage;

/// <summary>The in-memory test double passes the backend conformance suite.</summary>
public sealed class MemoryLogStoreConformanceTests : LogStoreConformanceTests
{
    protected override ILogStore Open(string directory) => MemoryLogStore.Open(directory);
}

/// <summary>The in-memory test double opened for several writers passes the same suite, turns included.</summary>
public sealed class SharedMemoryLogStoreConformanceTests : LogStoreConformanceTests
{
    protected override ILogStore Open(string directory) => MemoryLogStore.Open(directory, shared: true);
}

/// <summary>The fault injection of <see cref="MemoryLogStore"/>, which later pipeline tests rely on.</summary>
public sealed class MemoryLogStoreFaultTests
{
    private readonly string _directory = "memory-faults-" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task Fault_before_a_batch_writes_nothing_and_poisons_the_writer()
    {
        await using var store = await OpenWriterAsync();
        store.Fault = point => point == "batch.before" ? new IOException("disk gone") : null;

        var thrown = await Assert.ThrowsAsync<IOException>(() => store.WriteBatchAsync(Batch(0, 3)));
        Assert.Equal("disk gone", thrown.Message);

        Assert.Equal(0, await store.GetStoredSizeAsync());
        Assert.Null(await store.ReadTileAsync(0, 0));
        store.Fault = null;
        await Assert.ThrowsAsync<InvalidOperationException>(() => store.WriteBatchAsync(Batch(0, 3)));
    }

    [Fact]
    public async Task Fault_after_a_batch_leaves_it_written_but_unacknowledged()
    {
        await using (var store = await OpenWriterAsync())
        {
            store.Fault = point => point == "batch.after" ? new IOException("crash after write") : null;

            await Assert.ThrowsAsync<IOException>(() => store.WriteBatchAsync(Batch(0, 3)));

            Assert.Equal(3, await store.GetStoredSizeAsync());
            await Assert.ThrowsAsync<InvalidOperationException>(() => store.WriteCheckpointAsync(Checkpoint(3)));
        }

        await using var restarted = await OpenWriterAsync();
        Assert.Equal(3, await restarted.GetStoredSizeAsync());
        Assert.Null(await restarted.GetLatestCheckpointAsync());
        await restarted.WriteCheckpointAsync(Checkpoint(3));
        Assert.Equal(3, (await restarted.GetLatestCheckpointAsync())!.Size);
    }

    [Theory]
    [InlineData("checkpoint.before", false)]
    [InlineData("checkpoint.after", true)]
    public async Task Checkpoint_faults_fire_at_their_point(string point, bool written)
    {
        await using var store = await OpenWriterAsync();
        await store.WriteBatchAsync(Batch(0, 2));
        var seen = new List<string>();
        store.Fault = name =>
        {
            seen.Add(name);
            return name == point ? new IOException(point) : null;
        };

        await Assert.ThrowsAsync<IOException>(() => store.WriteCheckpointAsync(Checkpoint(2)));

        Assert.Equal(written, await store.GetLatestCheckpointAsync() is not null);
        Assert.Equal(point, seen[^1]);
        await Assert.ThrowsAsync<InvalidOperationException>(() => store.WriteBatchAsync(Batch(2, 1)));
    }

    [Fact]
    public async Task Every_durability_point_is_consulted_in_order()
    {
        await using var store = await OpenWriterAsync();
        var seen = new List<string>();
        store.Fault = name =>
        {
            seen.Add(name);
            return null;
        };

        await store.WriteBatchAsync(Batch(0, 1));
        await store.WriteCheckpointAsync(Checkpoint(1));

        Assert.Equal(["batch.before", "batch.after", "checkpoint.before", "checkpoint.after"], seen);
    }

    [Fact]
    public async Task Writer_lock_names_this_process()
    {
        await using var first = await OpenWriterAsync();
        await using var second = MemoryLogStore.Open(_directory);

        var refused = await Assert.ThrowsAsync<LogInUseException>(() => second.AcquireWriterAsync());

        Assert.Contains($"in use by PID {Environment.ProcessId}", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stored_bytes_are_isolated_from_callers()
    {
        var entry = new byte[] { 1, 2, 3 };
        await using var store = await OpenWriterAsync();
        await store.WriteBatchAsync(new LogBatch(0, [entry], [new TileWrite(0, 0, new byte[32])]));

        entry[0] = 9;
        (await store.ReadEntriesAsync(0, 1))[0][1] = 9;

        Assert.Equal(new byte[] { 1, 2, 3 }, (await store.ReadEntriesAsync(0, 1))[0]);
    }

    private static LogBatch Batch(long start, int count) =>
        new(
            start,
            Enumerable.Range(0, count).Select(i => (ReadOnlyMemory<byte>)new[] { (byte)(start + i) }).ToList(),
            [new TileWrite(0, 0, new byte[32 * (start + count)])]);

    private static StoredCheckpoint Checkpoint(long size) => new(size, [1, 2, 3]);

    private async Task<MemoryLogStore> OpenWriterAsync()
    {
        var store = MemoryLogStore.Open(_directory);
        await store.AcquireWriterAsync();
        return store;
    }
}
