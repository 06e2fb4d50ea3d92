using Sios.Ledger.Storage;

namespace Sios.Ledger.Tests.Storage;

/// <summary>
/// Several writers on one log: the contract of <see cref="ILogStore.TakeTurnAsync"/> and of a sole writer. On a store
/// with one writer at a time the second writer is refused, and what follows is checked of the one.
/// </summary>
public abstract partial class LogStoreConformanceTests
{
    [SkippableFact]
    public async Task Two_writers_take_turns_and_each_writes_from_what_the_other_left()
    {
        await using var a = await OpenWriterAsync();
        await using var b = Open(LogDirectory);
        try
        {
            await b.AcquireWriterAsync();
        }
        catch (LogInUseException)
        {
            // One writer at a time: its turn is its whole life, and takes nothing to hold.
            Assert.False(a.SharedWriters);
            await using (await a.TakeTurnAsync())
            {
                await a.WriteBatchAsync(Batch(0, 3));
            }

            Assert.Equal(3, await a.GetStoredSizeAsync());
            return;
        }

        Assert.True(a.SharedWriters && b.SharedWriters);
        Task<IAsyncDisposable> waiting;
        await using (await a.TakeTurnAsync())
        {
            waiting = b.TakeTurnAsync();
            await a.WriteBatchAsync(Batch(0, 3));
            await Task.Delay(200);
            Assert.False(waiting.IsCompleted, "the second writer got its turn while the first held it");
            await a.WriteCheckpointAsync(Checkpoint(3, "a"));
        }

        await using (await waiting.WaitAsync(TimeSpan.FromSeconds(30)))
        {
            // A writer that has not caught up is refused, and nothing of its batch lands.
            await Assert.ThrowsAsync<InvalidOperationException>(() => b.WriteBatchAsync(Batch(0, 2)));
            Assert.Equal(3, await b.GetStoredSizeAsync());
            await b.WriteBatchAsync(Batch(3, 2));
            await b.WriteCheckpointAsync(Checkpoint(5, "b"));
        }

        // A write outside any turn is a turn of its own: it waits for the other's turn to end.
        Task outside;
        await using (await b.TakeTurnAsync())
        {
            outside = a.WriteBatchAsync(Batch(5, 1));
            await Task.Delay(200);
            Assert.False(outside.IsCompleted, "a write outside a turn landed inside another writer's turn");
            Assert.Equal(5, await b.GetStoredSizeAsync());
            await b.WriteBatchAsync(Batch(5, 2));
        }

        await Assert.ThrowsAsync<InvalidOperationException>(() => outside.WaitAsync(TimeSpan.FromSeconds(30)));

        await AssertLogIsAsync(a, 7);
        Assert.Equal([3L, 5L], (await ToListAsync(a.ReadCheckpointsAsync(0))).Select(c => c.Size));
    }

    [SkippableFact]
    public async Task A_sole_writer_is_refused_beside_another_and_excludes_every_other_while_it_writes()
    {
        var member = await OpenWriterAsync();
        await using (var sole = Open(LogDirectory))
        {
            await Assert.ThrowsAsync<LogInUseException>(() => sole.AcquireSoleWriterAsync());
        }

        await member.DisposeAsync();
        await using var only = Open(LogDirectory);
        await only.AcquireSoleWriterAsync();
        Assert.False(only.SharedWriters);
        await using var other = Open(LogDirectory);
        await Assert.ThrowsAsync<LogInUseException>(() => other.AcquireWriterAsync());
        await only.WriteBatchAsync(Batch(0, 2));
        await AssertLogIsAsync(only, 2);
    }
}
