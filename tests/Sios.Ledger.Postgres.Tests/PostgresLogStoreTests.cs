using System.Text;
using Npgsql;
using Sios.Ledger.Checkpoints;
using Sios.Ledger.Pipeline;
using Sios.Ledger.Storage;
using Sios.Ledger.Tests.Pipeline;
using Sios.Signing;
using Sios.Tests.Postgres;
using Sios.Verify.Audit;
using Sios.Verify.Checkpoints;
using Sios.Verify.Crypto;
using Sios.Verify.Merkle;

namespace Sios.Ledger.Postgres.Tests;

/// <summary>
/// What only a shared database can do to a store: a writer's session cut off under it, nodes racing for the writer, two
/// logs in one database, a server that could lose what it acknowledged, and the database itself crashing under load.
/// </summary>
[Collection(PostgresTests.Name)]
public sealed class PostgresLogStoreTests(PostgresFixture postgres) : IAsyncLifetime
{
    private const string Origin = "test.example/postgres";
    private readonly List<string> _schemas = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (postgres.Unavailable is null)
        {
            foreach (var schema in _schemas)
            {
                await postgres.DropSchemaAsync(schema);
            }
        }
    }

    [SkippableFact]
    public async Task A_writer_cut_off_from_its_session_writes_nothing_more_and_another_node_takes_over()
    {
        var schema = Schema();
        await using var first = PostgresLogStore.Open(postgres.ConnectionString, schema);
        await first.AcquireWriterAsync();
        await first.WriteBatchAsync(Batch(0, 3));

        // A network cut, an administrator or a failover ends the writer's session: its lock goes with it.
        Assert.Equal(true, await postgres.ScalarAsync($"SELECT pg_terminate_backend({first.WriterBackendId});"));
        await Assert.ThrowsAnyAsync<Exception>(() => first.WriteBatchAsync(Batch(3, 2)));
        var poisoned = await Assert.ThrowsAsync<InvalidOperationException>(() => first.WriteBatchAsync(Batch(3, 2)));
        Assert.Contains("unusable", poisoned.Message, StringComparison.Ordinal);

        await using var second = PostgresLogStore.Open(postgres.ConnectionString, schema);
        await second.AcquireWriterAsync();
        Assert.Equal(3, await second.GetStoredSizeAsync());
        await second.WriteBatchAsync(Batch(3, 4));
        Assert.Equal(7, await first.GetStoredSizeAsync());
        await Assert.ThrowsAsync<InvalidOperationException>(() => first.WriteCheckpointAsync(new StoredCheckpoint(7, [1])));
        Assert.Null(await second.GetLatestCheckpointAsync());
    }

    [SkippableFact]
    public async Task Of_many_nodes_racing_to_be_the_sole_writer_exactly_one_wins_and_the_others_are_told_who()
    {
        var schema = Schema();
        var stores = Enumerable.Range(0, 8).Select(_ => PostgresLogStore.Open(postgres.ConnectionString, schema)).ToList();
        try
        {
            var outcomes = await Task.WhenAll(stores.Select(async store =>
            {
                try
                {
                    await store.AcquireSoleWriterAsync();
                    return null;
                }
                catch (LogInUseException e)
                {
                    return e.Message;
                }
            }));

            Assert.Single(outcomes, o => o is null);
            Assert.All(outcomes.Where(o => o is not null), o => Assert.Contains($"schema '{schema}' has other writers, and this needs to be its only one: stop them first (sios-writer", o, StringComparison.Ordinal));
            await using var member = PostgresLogStore.Open(postgres.ConnectionString, schema);
            var refused = await Assert.ThrowsAsync<LogInUseException>(() => member.AcquireWriterAsync());
            Assert.Contains("is held by its only writer (sios-writer", refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }
    }

    [SkippableFact]
    public async Task Three_nodes_on_one_database_append_at_once_into_one_history()
    {
        var schema = Schema();
        using var watchdog = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var nodes = new List<TransparencyLog>();
        for (var n = 0; n < 3; n++)
        {
            nodes.Add(await TransparencyLog.OpenAsync(await OpenAsync(schema), SharedLogTesting.Signer(Origin), new TransparencyLogOptions { TailKey = SharedLogTesting.TailKey }, watchdog.Token));
        }

        var acknowledged = new System.Collections.Concurrent.ConcurrentDictionary<long, int>();
        await Task.WhenAll(Enumerable.Range(0, 24).Select(t => Task.Run(async () =>
        {
            for (var i = 0; i < 40; i++)
            {
                var n = (t * 1000) + i;
                var result = await nodes[t % 3].AppendAsync(Entry(n), watchdog.Token);
                Assert.True(result.Checkpoint.Size > result.Index);
                Assert.True(acknowledged.TryAdd(result.Index, n), $"index {result.Index} handed out twice");
            }
        })));

        Assert.Equal(Enumerable.Range(0, 960).Select(i => (long)i), acknowledged.Keys.Order());
        var stored = await nodes[0].Reader.ReadEntriesAsync(0, 960);
        foreach (var (index, n) in acknowledged)
        {
            Assert.Equal(Entry(n), stored[(int)index]);
        }

        await SharedLogTesting.AssertOneHistoryAsync(nodes[0].Reader, Origin, 960);
        foreach (var node in nodes)
        {
            await node.DisposeAsync();
        }
    }

    [SkippableFact]
    public async Task A_writer_whose_write_fails_in_its_turn_lets_the_other_nodes_write_at_once()
    {
        var schema = Schema();
        await using var a = PostgresLogStore.Open(postgres.ConnectionString, schema);
        await using var b = PostgresLogStore.Open(postgres.ConnectionString, schema);
        await a.AcquireWriterAsync();
        await b.AcquireWriterAsync();
        // The server refuses a checkpoint row (a trigger stands in for any error that leaves the session alive).
        await postgres.ScalarAsync(
            $"CREATE FUNCTION {schema}.refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected'; END $$ LANGUAGE plpgsql; "
            + $"CREATE TRIGGER refuse BEFORE INSERT ON {schema}.checkpoints FOR EACH ROW EXECUTE FUNCTION {schema}.refuse();");

        var turn = await a.TakeTurnAsync();
        await a.WriteBatchAsync(Batch(0, 2));
        await Assert.ThrowsAsync<PostgresException>(() => a.WriteCheckpointAsync(new StoredCheckpoint(2, [1])));

        // A's turn object is still alive, but its session ended with the failure: B need not wait out the turn timeout.
        await using (await b.TakeTurnAsync().WaitAsync(TimeSpan.FromSeconds(10)))
        {
            await b.WriteBatchAsync(Batch(2, 1));
        }

        await turn.DisposeAsync();
        Assert.Equal(3, await b.GetStoredSizeAsync());
    }

    [SkippableFact]
    public async Task Two_logs_in_one_database_are_written_at_once_and_never_see_each_other()
    {
        await using var a = PostgresLogStore.Open(postgres.ConnectionString, Schema());
        await using var b = PostgresLogStore.Open(postgres.ConnectionString, Schema());
        await a.AcquireWriterAsync();
        await b.AcquireWriterAsync();

        await a.WriteBatchAsync(Batch(0, 5));
        await b.WriteBatchAsync(Batch(0, 2));

        Assert.Equal(5, await a.GetStoredSizeAsync());
        Assert.Equal(2, await b.GetStoredSizeAsync());
    }

    [SkippableFact]
    public async Task A_foreign_schema_a_newer_log_and_an_unsafe_name_are_refused_before_anything_is_written()
    {
        Skip.If(postgres.Unavailable is not null, postgres.Unavailable);
        var foreign = Schema();
        await postgres.ScalarAsync($"CREATE SCHEMA {foreign}; CREATE TABLE {foreign}.accounts(id int);");
        var refused = Assert.Throws<InvalidDataException>(() => PostgresLogStore.Open(postgres.ConnectionString, foreign));
        Assert.Contains("not a SIOS log", refused.Message, StringComparison.Ordinal);
        Assert.Equal(1L, await postgres.ScalarAsync($"SELECT count(*) FROM pg_tables WHERE schemaname = '{foreign}';"));

        var newer = Schema();
        await PostgresLogStore.Open(postgres.ConnectionString, newer).DisposeAsync();
        await postgres.ScalarAsync($"UPDATE {newer}.sios_meta SET version = 99;");
        Assert.Throws<NotSupportedException>(() => PostgresLogStore.Open(postgres.ConnectionString, newer));

        foreach (var name in new[] { "Public", "x;DROP TABLE y", "", "1abc", new string('a', 64), "ü" })
        {
            Assert.Throws<ArgumentException>(() => PostgresLogStore.Open(postgres.ConnectionString, name));
        }
    }

    [SkippableFact]
    public async Task A_server_that_could_lose_what_it_acknowledged_is_refused_for_writing()
    {
        Skip.If(postgres.Unavailable is not null, postgres.Unavailable);
        Skip.If(postgres.Cluster is null, "needs a throwaway cluster of its own (SIOS_TEST_POSTGRES names a given server)");
        await using var unsafeCluster = await PostgresCluster.StartAsync("fsync=off");
        await using var store = PostgresLogStore.Open(unsafeCluster.ConnectionString, "sios");

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => store.AcquireWriterAsync());

        Assert.Contains("fsync=off", refused.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidOperationException>(() => store.WriteBatchAsync(Batch(0, 1)));
    }

    [SkippableFact]
    public async Task Every_acknowledged_append_survives_the_database_crashing_under_load()
    {
        Skip.If(postgres.Unavailable is not null, postgres.Unavailable);
        Skip.If(postgres.Cluster is null, "crashes the server, so it needs the throwaway cluster (SIOS_TEST_POSTGRES names a given server)");
        using var watchdog = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var schema = Schema();
        var acknowledged = new System.Collections.Concurrent.ConcurrentDictionary<long, int>();
        var log = await TransparencyLog.OpenAsync(await OpenAsync(schema), SharedLogTesting.Signer(Origin), new TransparencyLogOptions { TailKey = SharedLogTesting.TailKey });
        var crashed = 0;
        var refused = 0;
        var appenders = Enumerable.Range(0, 8).Select(t => Task.Run(async () =>
        {
            for (var i = 0; !watchdog.IsCancellationRequested && Volatile.Read(ref crashed) < 2; i++)
            {
                var n = (t * 1_000_000) + i;
                try
                {
                    var result = await log.AppendAsync(Entry(n), watchdog.Token);
                    acknowledged[result.Index] = n;
                }
                catch (LogBackpressureException)
                {
                    await Task.Delay(10, watchdog.Token);
                }
                catch (LogFailedException)
                {
                    Assert.True(Volatile.Read(ref crashed) != 0, "the log failed before the database crashed");
                    Interlocked.Increment(ref refused);
                    await Task.Delay(10, watchdog.Token);
                }
            }
        })).ToList();

        while (acknowledged.Count < 200)
        {
            await Task.Delay(20, watchdog.Token);
        }

        // The server dies as in a power cut (no shutdown checkpoint) while appends are in flight, and comes back.
        Volatile.Write(ref crashed, 1);
        await postgres.Cluster.RestartAsync();
        Volatile.Write(ref crashed, 2);
        await Task.WhenAll(appenders).WaitAsync(watchdog.Token);
        Assert.True(refused > 0, "no append was refused while the database was down");

        // The node itself was refused meanwhile, not stopped: once the server is back it rejoins and seals again.
        Assert.Null(log.Failure);
        var resumed = await log.AppendAsync(Entry(-1), watchdog.Token);
        acknowledged[resumed.Index] = -1;
        await log.DisposeAsync();
        NpgsqlConnection.ClearAllPools();

        // A node opening the store afresh recovers the same: nothing acknowledged is missing, the whole history verifies.
        await using var reopened = await TransparencyLog.OpenAsync(await OpenAsync(schema), SharedLogTesting.Signer(Origin), new TransparencyLogOptions { TailKey = SharedLogTesting.TailKey });
        var size = reopened.Latest.Size;
        Assert.True(size >= acknowledged.Count, $"the log holds {size} entries but {acknowledged.Count} were acknowledged");
        var stored = await reopened.Reader.ReadEntriesAsync(0, (int)size);
        foreach (var (index, n) in acknowledged)
        {
            Assert.Equal(Entry(n), stored[(int)index]);
        }

        await SharedLogTesting.AssertOneHistoryAsync(reopened.Reader, Origin, size);
        Assert.Equal(Rfc6962.HashSize, reopened.Latest.Root.Length);
    }

    private static byte[] Entry(int n) => SharedLogTesting.Entry($"entry {n}");

    private static LogBatch Batch(long start, int count)
    {
        var entries = Enumerable.Range(0, count).Select(i => (ReadOnlyMemory<byte>)Entry((int)start + i)).ToList();
        return new LogBatch(start, entries, []);
    }

    private string Schema()
    {
        Skip.If(postgres.Unavailable is not null, postgres.Unavailable);
        var schema = PostgresFixture.NewSchema();
        _schemas.Add(schema);
        return schema;
    }

    private Task<PostgresLogStore> OpenAsync(string schema) => Task.FromResult(PostgresLogStore.Open(postgres.ConnectionString, schema));
}
