using System.Collections.Concurrent;
using System.Text;
using Sios.Ledger.Checkpoints;
using Sios.Ledger.Pipeline;
using Sios.Ledger.Storage;
using Sios.Ledger.Tests.Storage;
using Sios.Signing;
using Sios.Verify.Audit;
using Sios.Verify.Checkpoints;
using Sios.Verify.Crypto;

namespace Sios.Ledger.Tests.Pipeline;

/// <summary>
/// Several nodes appending to one log through a store they share (the in-memory double in its shared form): one
/// history, every acknowledged entry under a checkpoint, a batch that persisted although its node failed signed by the
/// next node, and rows added by hand refused.
/// </summary>
public sealed class SharedWritersTests
{
    private const string Origin = "test.example/shared";

    [Fact]
    public async Task Three_nodes_append_at_once_and_every_acknowledged_entry_is_in_one_history()
    {
        var directory = "shared-" + Guid.NewGuid().ToString("N");
        var nodes = new List<TransparencyLog>();
        for (var n = 0; n < 3; n++)
        {
            nodes.Add(await OpenAsync(MemoryLogStore.Open(directory, shared: true)));
        }

        var acknowledged = new ConcurrentDictionary<long, string>();
        await Task.WhenAll(Enumerable.Range(0, 12).Select(t => Task.Run(async () =>
        {
            var node = nodes[t % nodes.Count];
            for (var i = 0; i < 50; i++)
            {
                var text = $"node {t % nodes.Count} appender {t} entry {i}";
                var result = await node.AppendAsync(SharedLogTesting.Entry(text));
                Assert.True(result.Checkpoint.Size > result.Index, "acknowledged before a checkpoint covered the entry");
                Assert.True(acknowledged.TryAdd(result.Index, text), $"index {result.Index} was handed out twice");
            }
        })));

        Assert.Equal(Enumerable.Range(0, 600).Select(i => (long)i), acknowledged.Keys.Order());
        var store = MemoryLogStore.Open(directory, shared: true);
        var stored = await store.ReadEntriesAsync(0, 600);
        foreach (var (index, text) in acknowledged)
        {
            Assert.Equal(SharedLogTesting.Entry(text), stored[(int)index]);
        }

        await SharedLogTesting.AssertOneHistoryAsync(store, Origin, 600);

        // Each node follows what the others publish, so all serve the same newest checkpoint.
        using var watchdog = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (nodes.Any(n => n.Latest.Size != 600))
        {
            await Task.Delay(50, watchdog.Token);
        }

        foreach (var node in nodes)
        {
            await node.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_node_that_joins_while_another_publishes_recovers_inside_a_turn_never_from_a_torn_read()
    {
        var directory = "shared-" + Guid.NewGuid().ToString("N");
        var a = await OpenAsync(MemoryLogStore.Open(directory, shared: true));
        await a.AppendAsync(SharedLogTesting.Entry("before the join"));
        var joining = MemoryLogStore.Open(directory, shared: true);
        var published = 0;
        // Between the joiner's read of the size and its read of the latest checkpoint, node A tries to append and
        // publish. Outside a turn A would get in, and the joiner would see a checkpoint beyond the size it read.
        joining.AfterSizeRead = () =>
        {
            if (Interlocked.Exchange(ref published, 1) == 0)
            {
                _ = a.AppendAsync(SharedLogTesting.Entry("during the join")).Wait(TimeSpan.FromMilliseconds(500));
            }
        };

        var b = await OpenAsync(joining);
        var later = await b.AppendAsync(SharedLogTesting.Entry("after the join"));

        Assert.Equal(1, published);
        Assert.Equal(2, later.Index);
        await a.DisposeAsync();
        await b.DisposeAsync();
        await SharedLogTesting.AssertOneHistoryAsync(MemoryLogStore.Open(directory, shared: true), Origin, 3);
    }

    [Fact]
    public async Task A_batch_that_persisted_although_its_node_failed_is_signed_by_the_next_node()
    {
        var directory = "shared-" + Guid.NewGuid().ToString("N");
        var failingStore = MemoryLogStore.Open(directory, shared: true);
        var a = await OpenAsync(failingStore);
        var b = await OpenAsync(MemoryLogStore.Open(directory, shared: true));
        await a.AppendAsync(SharedLogTesting.Entry("before"));

        // Node A's batch reaches the store, then A dies before it can sign (the write "fails but persists").
        failingStore.Fault = point => point == "batch.after" ? new IOException("power lost after the write") : null;
        await Assert.ThrowsAsync<LogFailedException>(() => a.AppendAsync(SharedLogTesting.Entry("persisted, never acknowledged")));
        Assert.Null(a.Failure);

        var result = await b.AppendAsync(SharedLogTesting.Entry("after"));

        Assert.Equal(2, result.Index);
        Assert.Equal(3, result.Checkpoint.Size);
        var store = MemoryLogStore.Open(directory, shared: true);
        Assert.Equal(SharedLogTesting.Entry("persisted, never acknowledged"), (await store.ReadEntriesAsync(1, 1))[0]);
        await SharedLogTesting.AssertOneHistoryAsync(store, Origin, 3);
        Assert.Contains(2L, await SizesAsync(store));
        await a.DisposeAsync();
        await b.DisposeAsync();
    }

    [Fact]
    public async Task Rows_added_to_the_shared_store_by_hand_stop_the_next_node_instead_of_being_signed()
    {
        var directory = "shared-" + Guid.NewGuid().ToString("N");
        var node = await OpenAsync(MemoryLogStore.Open(directory, shared: true));
        await node.AppendAsync(SharedLogTesting.Entry("genuine"));

        // Someone with write access to the database, but not the nodes' keys, appends a row and its tiles (no seal).
        var forger = MemoryLogStore.Open(directory, shared: true);
        await forger.AcquireWriterAsync();
        var builder = await Sios.Ledger.Merkle.TreeBuilder.LoadAsync(1, new StoreLogSource(forger), CancellationToken.None);
        var forged = SharedLogTesting.Entry("forged");
        var tiles = builder.Append([Verify.Merkle.Rfc6962.LeafHash(forged)]);
        await forger.WriteBatchAsync(new LogBatch(1, [forged], tiles));

        var refused = await Assert.ThrowsAsync<LogFailedException>(() => node.AppendAsync(SharedLogTesting.Entry("next")));
        Assert.IsType<LogIntegrityException>(refused.InnerException);
        Assert.Equal(new long[] { 0, 1 }, await SizesAsync(MemoryLogStore.Open(directory, shared: true)));
        await node.DisposeAsync();
    }

    [Fact]
    public async Task A_node_whose_store_goes_away_refuses_meanwhile_and_resumes_by_itself_when_it_is_back()
    {
        var directory = "shared-" + Guid.NewGuid().ToString("N");
        var store = MemoryLogStore.Open(directory, shared: true);
        await using var node = await OpenAsync(store);
        await node.AppendAsync(SharedLogTesting.Entry("before"));

        store.Unreachable = true;
        await Assert.ThrowsAsync<LogFailedException>(() => node.AppendAsync(SharedLogTesting.Entry("refused")));
        Assert.Null(node.Failure);
        Assert.NotNull(node.StoreProblem);
        await Assert.ThrowsAsync<LogFailedException>(() => node.AppendAsync(SharedLogTesting.Entry("refused again")));

        store.Unreachable = false;
        var resumed = await node.AppendAsync(SharedLogTesting.Entry("after"));

        Assert.Equal(1, resumed.Index);
        Assert.Null(node.StoreProblem);
        await SharedLogTesting.AssertOneHistoryAsync(MemoryLogStore.Open(directory, shared: true), Origin, 2);
    }

    [Fact]
    public async Task A_node_whose_batch_persisted_although_the_write_failed_signs_it_when_it_resumes()
    {
        var directory = "shared-" + Guid.NewGuid().ToString("N");
        var store = MemoryLogStore.Open(directory, shared: true);
        await using var node = await OpenAsync(store);
        await node.AppendAsync(SharedLogTesting.Entry("before"));
        store.Fault = point => point == "batch.after" ? new IOException("the answer to COMMIT was lost") : null;
        await Assert.ThrowsAsync<LogFailedException>(() => node.AppendAsync(SharedLogTesting.Entry("landed, unacknowledged")));
        store.Fault = null;

        var resumed = await node.AppendAsync(SharedLogTesting.Entry("after"));

        Assert.Equal(2, resumed.Index);
        var reader = MemoryLogStore.Open(directory, shared: true);
        Assert.Equal(SharedLogTesting.Entry("landed, unacknowledged"), (await reader.ReadEntriesAsync(1, 1))[0]);
        await SharedLogTesting.AssertOneHistoryAsync(reader, Origin, 3);
    }

    [Fact]
    public async Task After_a_failed_batch_a_node_rebuilds_its_tree_even_when_another_node_appended_as_many_entries()
    {
        var directory = "shared-" + Guid.NewGuid().ToString("N");
        var failing = MemoryLogStore.Open(directory, shared: true);
        await using var a = await OpenAsync(failing);
        await using var b = await OpenAsync(MemoryLogStore.Open(directory, shared: true));
        await a.AppendAsync(SharedLogTesting.Entry("first"));

        // A's batch of one fails before it lands; B then appends exactly one entry, so the sizes A sees agree with its tree.
        failing.Fault = point => point == "batch.before" ? new IOException("connection reset") : null;
        await Assert.ThrowsAsync<LogFailedException>(() => a.AppendAsync(SharedLogTesting.Entry("lost")));
        failing.Fault = null;
        await b.AppendAsync(SharedLogTesting.Entry("b's"));

        var next = await a.AppendAsync(SharedLogTesting.Entry("a again"));

        Assert.Equal(2, next.Index);
        await SharedLogTesting.AssertOneHistoryAsync(MemoryLogStore.Open(directory, shared: true), Origin, 3);
    }

    private static Task<TransparencyLog> OpenAsync(ILogStore store) =>
        TransparencyLog.OpenAsync(store, SharedLogTesting.Signer(Origin), new TransparencyLogOptions { TailKey = SharedLogTesting.TailKey });

    private static async Task<List<long>> SizesAsync(MemoryLogStore store)
    {
        var sizes = new List<long>();
        await foreach (var checkpoint in store.ReadCheckpointsAsync(0))
        {
            sizes.Add(checkpoint.Size);
        }

        return sizes;
    }

}
