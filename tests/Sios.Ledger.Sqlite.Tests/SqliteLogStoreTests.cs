using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Sios.Ledger.Storage;

namespace Sios.Ledger.Sqlite.Tests;

/// <summary>What the SQLite store promises beyond the shared suite: settings, locking across processes, atomicity.</summary>
public sealed class SqliteLogStoreTests : IDisposable
{
    private const string HoldLockScript = """
        import fcntl, os, sys, time
        lock = open(sys.argv[1] + ".lock", "a+")
        fcntl.flock(lock, fcntl.LOCK_EX)
        with open(sys.argv[1] + ".pid", "w") as pid:
            pid.write(str(os.getpid()))
        print(os.getpid(), flush=True)
        time.sleep(300)
        """;

    private readonly string _directory;
    private readonly string _databasePath;

    public SqliteLogStoreTests()
    {
        _directory = Path.Combine(Path.GetTempPath(), "sios-sqlite-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
        _databasePath = Path.Combine(_directory, "log.db");
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Durability_and_hardening_settings_are_in_effect()
    {
        await using var store = SqliteLogStore.Open(_databasePath);

        Assert.Equal("wal", store.ReadWriterPragma("journal_mode"));
        Assert.Equal("2", store.ReadWriterPragma("synchronous"));
        Assert.Equal("0", store.ReadWriterPragma("trusted_schema"));
        Assert.Equal("3", store.ReadWriterPragma("user_version"));
        using var raw = RawConnection();
        Assert.Equal("wal", Scalar(raw, "PRAGMA journal_mode;"));
        Assert.Equal("3", Scalar(raw, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('entries', 'tiles', 'checkpoints');"));
    }

    [Fact]
    public async Task Second_writer_in_this_process_is_told_our_pid_and_the_lock_path()
    {
        var first = SqliteLogStore.Open(_databasePath);
        await first.AcquireWriterAsync();
        await using var second = SqliteLogStore.Open(_databasePath);

        var refused = await Assert.ThrowsAsync<LogInUseException>(() => second.AcquireWriterAsync());

        Assert.Contains($"in use by PID {Environment.ProcessId} ", refused.Message, StringComparison.Ordinal);
        Assert.Contains(_databasePath + ".lock", refused.Message, StringComparison.Ordinal);
        Assert.Equal(Environment.ProcessId.ToString(CultureInfo.InvariantCulture), File.ReadAllText(_databasePath + ".pid").Trim());

        await first.DisposeAsync();
        Assert.False(File.Exists(_databasePath + ".pid"));
        await second.AcquireWriterAsync();
        await second.WriteBatchAsync(Batch(0, 2));
        Assert.Equal(2, await second.GetStoredSizeAsync());
    }

    [CrossProcessFact]
    public async Task Lock_held_by_another_process_names_it_and_dies_with_it()
    {
        await using var store = SqliteLogStore.Open(_databasePath);
        var start = new ProcessStartInfo(CrossProcessFactAttribute.Python!) { RedirectStandardOutput = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(HoldLockScript);
        start.ArgumentList.Add(_databasePath);
        using var child = Process.Start(start)!;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var childPid = (await child.StandardOutput.ReadLineAsync(timeout.Token))?.Trim();
            Assert.False(string.IsNullOrEmpty(childPid), "the child exited before taking the lock");

            var refused = await Assert.ThrowsAsync<LogInUseException>(() => store.AcquireWriterAsync());
            Assert.Contains($"in use by PID {childPid} ", refused.Message, StringComparison.Ordinal);
            await Assert.ThrowsAsync<InvalidOperationException>(() => store.WriteBatchAsync(Batch(0, 1)));
        }
        finally
        {
            // SIGKILL: the child gets no chance to unlock, exactly like a crash.
            child.Kill(entireProcessTree: true);
            await child.WaitForExitAsync();
        }

        await store.AcquireWriterAsync();
        Assert.Equal(Environment.ProcessId.ToString(CultureInfo.InvariantCulture), File.ReadAllText(_databasePath + ".pid").Trim());
        await store.WriteBatchAsync(Batch(0, 1));
        Assert.Equal(1, await store.GetStoredSizeAsync());
    }

    [CrossProcessFact]
    public async Task Another_process_reads_committed_batches_while_the_writer_runs()
    {
        await using var store = SqliteLogStore.Open(_databasePath);
        await store.AcquireWriterAsync();
        await store.WriteBatchAsync(Batch(0, 7));

        Assert.Equal("7 6", await ReadFromAnotherProcessAsync());
        await store.WriteBatchAsync(Batch(7, 5));
        Assert.Equal("12 11", await ReadFromAnotherProcessAsync());
    }

    [Fact]
    public async Task Failure_inside_the_transaction_leaves_no_partial_batch_and_poisons_the_writer()
    {
        await using (var store = SqliteLogStore.Open(_databasePath))
        {
            await store.AcquireWriterAsync();
            await store.WriteBatchAsync(Batch(0, 10));
            using (var raw = RawConnection())
            {
                // Fails the batch after its entries are inserted, at the tile write, inside the open transaction.
                Execute(raw, "CREATE TRIGGER fail_level_9 BEFORE INSERT ON tiles WHEN NEW.level = 9 BEGIN SELECT RAISE(ABORT, 'provoked'); END;");
            }

            var poisoned = Batch(10, 10) with { Tiles = [.. Batch(10, 10).Tiles, new TileWrite(9, 0, new byte[32])] };
            var failure = await Assert.ThrowsAsync<SqliteException>(() => store.WriteBatchAsync(poisoned));
            Assert.Contains("provoked", failure.Message, StringComparison.Ordinal);

            await AssertHoldsAsync(store, 10);
            Assert.Empty(await store.ReadEntriesAsync(10, 10));
            var later = await Assert.ThrowsAsync<InvalidOperationException>(() => store.WriteBatchAsync(Batch(10, 10)));
            Assert.Same(failure, later.InnerException);
        }

        using (var raw = RawConnection())
        {
            Execute(raw, "DROP TRIGGER fail_level_9;");
        }

        await using var reopened = SqliteLogStore.Open(_databasePath);
        await AssertHoldsAsync(reopened, 10);
        await reopened.AcquireWriterAsync();
        await reopened.WriteBatchAsync(Batch(10, 10));
        await AssertHoldsAsync(reopened, 20);
    }

    [Fact]
    public async Task Disposing_during_a_write_leaves_the_whole_batch_or_none_of_it()
    {
        const int Count = 20_000;
        var store = SqliteLogStore.Open(_databasePath);
        await store.AcquireWriterAsync();
        var batch = new LogBatch(0, Enumerable.Range(0, Count).Select(i => (ReadOnlyMemory<byte>)Entry(i)).ToList(), []);

        var write = Task.Run(() => store.WriteBatchAsync(batch));
        await store.DisposeAsync();
        var outcome = await Record.ExceptionAsync(() => write);

        await using var reopened = SqliteLogStore.Open(_databasePath);
        var size = await reopened.GetStoredSizeAsync();
        if (outcome is null)
        {
            Assert.Equal(Count, size);
            Assert.Equal(Entry(Count - 1), (await reopened.ReadEntriesAsync(Count - 1, 1))[0]);
        }
        else
        {
            Assert.IsType<ObjectDisposedException>(outcome);
            Assert.Equal(0, size);
        }
    }

    [Fact]
    public async Task Reading_entries_stops_at_a_gap()
    {
        await using var store = SqliteLogStore.Open(_databasePath);
        await store.AcquireWriterAsync();
        await store.WriteBatchAsync(Batch(0, 10));
        using (var raw = RawConnection())
        {
            Execute(raw, "DELETE FROM entries WHERE idx = 5;");
        }

        var before = await store.ReadEntriesAsync(0, 10);
        var after = await store.ReadEntriesAsync(6, 10);

        Assert.Equal(Enumerable.Range(0, 5).Select(Entry), before);
        Assert.Equal(Enumerable.Range(6, 4).Select(Entry), after);
        Assert.Empty(await store.ReadEntriesAsync(5, 3));
    }

    [Fact]
    public async Task Newer_schema_version_is_refused_with_a_clear_message()
    {
        await (SqliteLogStore.Open(_databasePath)).DisposeAsync();
        using (var raw = RawConnection())
        {
            Execute(raw, "PRAGMA user_version = 4;");
        }

        var refused = Assert.Throws<NotSupportedException>(() => SqliteLogStore.Open(_databasePath));

        Assert.Contains("schema version 4, newer than version 3", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_version_1_log_is_upgraded_in_place_and_its_checkpoints_chained_in_their_stored_order()
    {
        using (var raw = RawConnection())
        {
            Execute(raw, """
                CREATE TABLE entries(idx INTEGER PRIMARY KEY CHECK (idx >= 0), data BLOB NOT NULL) STRICT;
                CREATE TABLE tiles(level INTEGER NOT NULL CHECK (level >= 0), idx INTEGER NOT NULL CHECK (idx >= 0),
                    hashes BLOB NOT NULL CHECK (length(hashes) BETWEEN 32 AND 8192 AND length(hashes) % 32 = 0),
                    PRIMARY KEY(level, idx)) STRICT, WITHOUT ROWID;
                CREATE TABLE checkpoints(size INTEGER PRIMARY KEY CHECK (size >= 0), note BLOB NOT NULL) STRICT;
                INSERT INTO checkpoints(size, note) VALUES (0, x'61'), (3, x'62'), (7, x'63');
                PRAGMA application_id = 1397313363; PRAGMA user_version = 1;
                """);
        }

        await using var store = SqliteLogStore.Open(_databasePath);

        Assert.Equal("3", store.ReadWriterPragma("user_version"));
        var chain = new List<(long, long?)>();
        await foreach (var checkpoint in store.ReadCheckpointsAsync(0))
        {
            chain.Add((checkpoint.Size, checkpoint.Previous));
        }

        Assert.Equal([(0L, (long?)-1L), (3L, 0L), (7L, 3L)], chain);
        Assert.Null(await store.ReadTailSealAsync());
    }

    [Fact]
    public async Task A_version_2_log_gains_an_empty_tail_seal_and_keeps_its_rows()
    {
        using (var raw = RawConnection())
        {
            Execute(raw, """
                CREATE TABLE entries(idx INTEGER PRIMARY KEY CHECK (idx >= 0), data BLOB NOT NULL) STRICT;
                CREATE TABLE tiles(level INTEGER NOT NULL CHECK (level >= 0), idx INTEGER NOT NULL CHECK (idx >= 0),
                    hashes BLOB NOT NULL CHECK (length(hashes) BETWEEN 32 AND 8192 AND length(hashes) % 32 = 0),
                    PRIMARY KEY(level, idx)) STRICT, WITHOUT ROWID;
                CREATE TABLE checkpoints(size INTEGER PRIMARY KEY CHECK (size >= 0), note BLOB NOT NULL,
                    previous INTEGER NOT NULL CHECK (previous >= -1 AND previous < size)) STRICT;
                INSERT INTO entries(idx, data) VALUES (0, x'7b7d');
                INSERT INTO checkpoints(size, note, previous) VALUES (1, x'61', -1);
                PRAGMA application_id = 1397313363; PRAGMA user_version = 2;
                """);
        }

        await using var store = SqliteLogStore.Open(_databasePath);

        Assert.Equal("3", store.ReadWriterPragma("user_version"));
        Assert.Equal(1, await store.GetStoredSizeAsync());
        Assert.Null(await store.ReadTailSealAsync());
        await store.AcquireWriterAsync();
        await store.WriteBatchAsync(new LogBatch(1, [new byte[] { 1 }], []) { TailSeal = [4, 2] });
        Assert.Equal(new TailSeal(2, [4, 2]).Size, (await store.ReadTailSealAsync())!.Size);
    }

    [Fact]
    public void File_that_is_not_a_database_is_refused()
    {
        File.WriteAllText(_databasePath, "this is a text file, not a database, and it is long enough to look like a header\n");

        var refused = Assert.Throws<InvalidDataException>(() => SqliteLogStore.Open(_databasePath));

        Assert.Contains("not a SQLite database", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Database_of_another_application_is_refused()
    {
        using (var raw = RawConnection())
        {
            Execute(raw, "CREATE TABLE people(name TEXT);");
        }

        var refused = Assert.Throws<InvalidDataException>(() => SqliteLogStore.Open(_databasePath));

        Assert.Contains("not a SIOS log", refused.Message, StringComparison.Ordinal);
        using var check = RawConnection();
        Assert.Equal("1", Scalar(check, "SELECT count(*) FROM sqlite_schema;"));
    }

    [Fact]
    public void Missing_directory_is_reported()
    {
        var path = Path.Combine(_directory, "absent", "log.db");

        var refused = Assert.Throws<DirectoryNotFoundException>(() => SqliteLogStore.Open(path));

        Assert.Contains(Path.Combine(_directory, "absent"), refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Malformed_tiles_are_rejected_and_a_full_tile_is_accepted()
    {
        await using var store = SqliteLogStore.Open(_databasePath);
        await store.AcquireWriterAsync();

        await Assert.ThrowsAsync<ArgumentException>(
            () => store.WriteBatchAsync(new LogBatch(0, [], [new TileWrite(0, 0, new byte[257 * 32])])));
        await Assert.ThrowsAsync<ArgumentException>(
            () => store.WriteBatchAsync(new LogBatch(0, [], [new TileWrite(-1, 0, new byte[32])])));

        await store.WriteBatchAsync(new LogBatch(0, [], [new TileWrite(0, 0, new byte[256 * 32])]));
        Assert.Equal(256 * 32, (await store.ReadTileAsync(0, 0))!.Length);
    }

    private static byte[] Entry(int index) => BitConverter.GetBytes(index);

    // Entries and one level-0 tile (valid while start + count <= 256) whose hashes are all zero.
    private static LogBatch Batch(int start, int count) =>
        new(
            start,
            Enumerable.Range(start, count).Select(i => (ReadOnlyMemory<byte>)Entry(i)).ToList(),
            [new TileWrite(0, 0, new byte[32 * (start + count)])]);

    private static async Task AssertHoldsAsync(SqliteLogStore store, int size)
    {
        Assert.Equal(size, await store.GetStoredSizeAsync());
        Assert.Equal(Enumerable.Range(0, size).Select(Entry), await store.ReadEntriesAsync(0, size + 5));
        Assert.Equal(size * 32, (await store.ReadTileAsync(0, 0))!.Length);
        Assert.Null(await store.ReadTileAsync(9, 0));
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static string? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToString(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private async Task<string> ReadFromAnotherProcessAsync()
    {
        var start = new ProcessStartInfo(CrossProcessFactAttribute.Python!) { RedirectStandardOutput = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("""
            import sqlite3, sys
            db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
            print(*db.execute("SELECT count(*), max(idx) FROM entries").fetchone())
            """);
        start.ArgumentList.Add(_databasePath);
        using var child = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var output = await child.StandardOutput.ReadToEndAsync(timeout.Token);
        await child.WaitForExitAsync(timeout.Token);
        Assert.Equal(0, child.ExitCode);
        return output.Trim();
    }

    private SqliteConnection RawConnection()
    {
        var connection = new SqliteConnection($"Data Source={_databasePath};Pooling=False");
        connection.Open();
        return connection;
    }
}
