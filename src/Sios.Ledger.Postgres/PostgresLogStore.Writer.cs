using System.Globalization;
using System.Runtime.InteropServices;
using Npgsql;
using NpgsqlTypes;
using Sios.Ledger.Storage;
using Sios.Verify.Tiles;

namespace Sios.Ledger.Postgres;

// The writer side: one unpooled session that holds the log's advisory lock and runs every write.
public sealed partial class PostgresLogStore
{
    /// <inheritdoc />
    public async Task AcquireWriterAsync(CancellationToken cancellationToken = default)
    {
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            if (_writer is not null)
            {
                throw new InvalidOperationException("AcquireWriterAsync was already called on this store; call it once.");
            }

            _writer = await WriterState.AcquireAsync(_settings, Schema, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <inheritdoc />
    public async Task WriteBatchAsync(LogBatch batch, CancellationToken cancellationToken = default)
    {
        StoreArguments.Batch(batch);
        await WriteAsync(writer => writer.WriteBatchAsync(batch, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task WriteCheckpointAsync(StoredCheckpoint checkpoint, CancellationToken cancellationToken = default)
    {
        StoreArguments.Checkpoint(checkpoint);

        await WriteAsync(writer => writer.WriteCheckpointAsync(checkpoint, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task DiscardTailAsync(long size, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        await WriteAsync(writer => writer.DiscardTailAsync(size, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The server process ID of the writer's session, for tests that cut it off; null when not the writer.</summary>
    internal int? WriterBackendId => _writer?.BackendId;

    /// <summary>Runs one write under the gate; a rejection throws and leaves the writer usable, any other failure poisons it.</summary>
    private async Task WriteAsync(Func<WriterState, Task<string?>> write, CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            if (_writer is null)
            {
                throw new InvalidOperationException("this store is not the writer; call AcquireWriterAsync before writing");
            }

            if (_writeFailure is not null)
            {
                throw new InvalidOperationException("an earlier write failed, so this writer is unusable; dispose the store and reopen it to recover", _writeFailure);
            }

            cancellationToken.ThrowIfCancellationRequested();
            string? rejection;
            try
            {
                rejection = await write(_writer).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !_writer.CommitStarted)
            {
                // Cancelled before COMMIT was sent: the transaction rolled back, and the session (and lock) is intact.
                throw;
            }
            catch (Exception e)
            {
                // Once COMMIT may have reached the server, or the session broke, whether the write landed is unknown here:
                // the writer stops, and the log recovers from what the store holds when it is reopened.
                _writeFailure = e;
                throw;
            }

            if (rejection is not null)
            {
                throw new InvalidOperationException(rejection);
            }
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private sealed class WriterState : IAsyncDisposable
    {
        private readonly NpgsqlConnection _connection;
        private readonly string _s;

        private WriterState(NpgsqlConnection connection, string schema)
        {
            _connection = connection;
            _s = schema;
            BackendId = connection.ProcessID;
        }

        public int BackendId { get; }

        public bool CommitStarted { get; private set; }

        public static async Task<WriterState> AcquireAsync(NpgsqlConnectionStringBuilder settings, string schema, CancellationToken ct)
        {
            var own = new NpgsqlConnectionStringBuilder(settings.ConnectionString)
            {
                // Unpooled: closing the connection must end the session, and with it the session-level lock.
                Pooling = false,
                ApplicationName = $"sios-writer {Environment.MachineName} pid {Environment.ProcessId}",
            };
            var connection = new NpgsqlConnection(own.ConnectionString);
            try
            {
                await connection.OpenAsync(ct).ConfigureAwait(false);
                await CheckDurabilityAsync(connection, ct).ConfigureAwait(false);
                var key = await ScalarLongAsync(connection, null, $"SELECT ({PostgresSchema.LockSpace}::bigint << 32) | oid::bigint FROM pg_namespace WHERE nspname = '{schema}';", ct).ConfigureAwait(false)
                    ?? throw new InvalidOperationException($"the PostgreSQL schema '{schema}' is gone");
                await using (var take = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key);", connection))
                {
                    take.Parameters.AddWithValue("key", key);
                    if (await take.ExecuteScalarAsync(ct).ConfigureAwait(false) is not true)
                    {
                        throw new LogInUseException(await DescribeHolderAsync(connection, schema, key, ct).ConfigureAwait(false));
                    }
                }

                return new WriterState(connection, schema);
            }
            catch
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }

        public async Task<string?> WriteBatchAsync(LogBatch batch, CancellationToken ct)
        {
            CommitStarted = false;
            await using var transaction = await _connection.BeginTransactionAsync(ct).ConfigureAwait(false);
            var stored = await ScalarLongAsync(_connection, transaction, $"SELECT coalesce(max(idx) + 1, 0) FROM {_s}.entries;", ct).ConfigureAwait(false) ?? 0;
            if (batch.Start != stored)
            {
                return $"the batch starts at index {batch.Start} but the log holds {stored} entries; a batch must start at the stored size (was another writer running, or a batch skipped?)";
            }

            if (batch.Entries.Count > 0)
            {
                // COPY streams the entries in one round trip whatever their number; a key conflict aborts the transaction.
                await using var import = await _connection.BeginBinaryImportAsync($"COPY {_s}.entries(idx, data) FROM STDIN (FORMAT BINARY)", ct).ConfigureAwait(false);
                var index = batch.Start;
                foreach (var entry in batch.Entries)
                {
                    await import.StartRowAsync(ct).ConfigureAwait(false);
                    await import.WriteAsync(index++, NpgsqlDbType.Bigint, ct).ConfigureAwait(false);
                    await import.WriteAsync(AsArray(entry), NpgsqlDbType.Bytea, ct).ConfigureAwait(false);
                }

                await import.CompleteAsync(ct).ConfigureAwait(false);
            }

            if (batch.Tiles.Count > 0)
            {
                await using var tiles = new NpgsqlCommand(
                    $"INSERT INTO {_s}.tiles(level, idx, hashes) SELECT * FROM unnest(@levels, @indices, @hashes) "
                    + "ON CONFLICT (level, idx) DO UPDATE SET hashes = excluded.hashes;",
                    _connection,
                    transaction);
                tiles.Parameters.AddWithValue("levels", batch.Tiles.Select(t => t.Level).ToArray());
                tiles.Parameters.AddWithValue("indices", batch.Tiles.Select(t => t.Index).ToArray());
                tiles.Parameters.AddWithValue("hashes", batch.Tiles.Select(t => t.Hashes).ToArray());
                await tiles.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            // The seal is replaced in the batch's own transaction: it always describes the tree the stored rows make.
            if (batch.TailSeal is { } seal)
            {
                await using var upsert = new NpgsqlCommand(
                    $"INSERT INTO {_s}.tail_seal(one, size, tag) VALUES (1, @size, @tag) ON CONFLICT (one) DO UPDATE SET size = excluded.size, tag = excluded.tag;",
                    _connection,
                    transaction);
                upsert.Parameters.AddWithValue("size", batch.Start + batch.Entries.Count);
                upsert.Parameters.AddWithValue("tag", seal);
                await upsert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
            else
            {
                await ExecuteAsync(transaction, $"DELETE FROM {_s}.tail_seal;", ct).ConfigureAwait(false);
            }

            await CommitAsync(transaction, ct).ConfigureAwait(false);
            return null;
        }

        public async Task<string?> WriteCheckpointAsync(StoredCheckpoint checkpoint, CancellationToken ct)
        {
            CommitStarted = false;
            await using var transaction = await _connection.BeginTransactionAsync(ct).ConfigureAwait(false);
            var latest = await ScalarLongAsync(_connection, transaction, $"SELECT max(size) FROM {_s}.checkpoints;", ct).ConfigureAwait(false);
            if (checkpoint.Size < latest)
            {
                return $"checkpoint size {checkpoint.Size} is below the latest stored checkpoint size {latest}; checkpoints never shrink";
            }

            var stored = await ScalarLongAsync(_connection, transaction, $"SELECT coalesce(max(idx) + 1, 0) FROM {_s}.entries;", ct).ConfigureAwait(false) ?? 0;
            if (checkpoint.Size > stored)
            {
                return $"checkpoint size {checkpoint.Size} exceeds the {stored} stored entries; a checkpoint may only cover entries already made durable";
            }

            await using var insert = new NpgsqlCommand(
                $"INSERT INTO {_s}.checkpoints(size, note, previous) "
                + $"VALUES (@size, @note, coalesce((SELECT max(size) FROM {_s}.checkpoints WHERE size < @size), -1)) "
                + "ON CONFLICT (size) DO UPDATE SET note = excluded.note;",
                _connection,
                transaction);
            insert.Parameters.AddWithValue("size", checkpoint.Size);
            insert.Parameters.AddWithValue("note", checkpoint.Note);
            await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            await CommitAsync(transaction, ct).ConfigureAwait(false);
            return null;
        }

        public async Task<string?> DiscardTailAsync(long size, CancellationToken ct)
        {
            CommitStarted = false;
            await using var transaction = await _connection.BeginTransactionAsync(ct).ConfigureAwait(false);
            var latest = await ScalarLongAsync(_connection, transaction, $"SELECT max(size) FROM {_s}.checkpoints;", ct).ConfigureAwait(false);
            if (latest > size)
            {
                return $"a signed checkpoint covers {latest} entries; a tail can only be discarded past the last checkpoint, not below it ({size})";
            }

            await ExecuteAsync(transaction, $"DELETE FROM {_s}.entries WHERE idx >= {size.ToString(CultureInfo.InvariantCulture)};", ct).ConfigureAwait(false);
            // Cut every level back to the tiles a tree of this size has: its full tiles, then a partial one of its width.
            for (var level = 0; level < 8; level++)
            {
                var full = TilePath.FullTileCount(level, size);
                var width = TilePath.PartialWidth(level, size);
                await using var cut = new NpgsqlCommand(
                    $"DELETE FROM {_s}.tiles WHERE level = @level AND idx >= @keep; "
                    + $"UPDATE {_s}.tiles SET hashes = substring(hashes FROM 1 FOR @bytes) WHERE level = @level AND idx = @partial AND length(hashes) > @bytes;",
                    _connection,
                    transaction);
                cut.Parameters.AddWithValue("level", level);
                cut.Parameters.AddWithValue("keep", width == 0 ? full : full + 1);
                cut.Parameters.AddWithValue("partial", full);
                cut.Parameters.AddWithValue("bytes", width * 32);
                await cut.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            await ExecuteAsync(transaction, $"DELETE FROM {_s}.tail_seal;", ct).ConfigureAwait(false);
            await CommitAsync(transaction, ct).ConfigureAwait(false);
            return null;
        }

        public ValueTask DisposeAsync() => _connection.DisposeAsync();

        /// <summary>
        /// Refuses a server that could lose a commit it acknowledged: fsync off, or commits acknowledged before they are
        /// flushed (synchronous_commit off), which the writer's own session then raises back to on.
        /// </summary>
        private static async Task CheckDurabilityAsync(NpgsqlConnection connection, CancellationToken ct)
        {
            if (!string.Equals(PostgresSchema.Setting(connection, "fsync"), "on", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException("the PostgreSQL server runs with fsync=off, so a crash can lose entries it acknowledged; SIOS refuses to write its log there (set fsync = on)");
            }

            if (string.Equals(PostgresSchema.Setting(connection, "synchronous_commit"), "off", StringComparison.OrdinalIgnoreCase))
            {
                await using var raise = new NpgsqlCommand("SET synchronous_commit = on;", connection);
                await raise.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
        }

        private static async Task<string> DescribeHolderAsync(NpgsqlConnection connection, string schema, long key, CancellationToken ct)
        {
            var message = $"the log in PostgreSQL schema '{schema}' is being written by another node";
            try
            {
                await using var who = new NpgsqlCommand(
                    "SELECT a.application_name, host(a.client_addr), a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                    + "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = @high AND l.objid = @low AND l.objsubid = 1 LIMIT 1;",
                    connection);
                who.Parameters.AddWithValue("high", NpgsqlDbType.Oid, (uint)(key >> 32));
                who.Parameters.AddWithValue("low", NpgsqlDbType.Oid, (uint)(key & 0xFFFFFFFF));
                await using var reader = await who.ExecuteReaderAsync(ct).ConfigureAwait(false);
                if (await reader.ReadAsync(ct).ConfigureAwait(false) && !reader.IsDBNull(0))
                {
                    var from = reader.IsDBNull(1) ? "a local socket" : reader.GetString(1);
                    message += $" ({reader.GetString(0)}, connected from {from} since {reader.GetDateTime(2):u})";
                }
            }
            catch (PostgresException)
            {
                // Naming the holder is a courtesy; a server that hides pg_stat_activity still refuses the second writer.
            }

            return message;
        }

        // The driver binds byte[] only; an entry that already is a whole array is passed without a copy.
        private static byte[] AsArray(ReadOnlyMemory<byte> entry) =>
            MemoryMarshal.TryGetArray(entry, out var segment) && segment.Offset == 0 && segment.Array is { } array && segment.Count == array.Length
                ? array
                : entry.ToArray();

        private async Task CommitAsync(NpgsqlTransaction transaction, CancellationToken ct)
        {
            ct.ThrowIfCancellationRequested();
            CommitStarted = true;
            // Durability point: COMMIT returns once the server has flushed the transaction's WAL (and, under synchronous
            // replication, once the standby has too). If it fails the outcome is unknown, so the caller poisons the writer.
            await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
        }

        private async Task ExecuteAsync(NpgsqlTransaction transaction, string sql, CancellationToken ct)
        {
            await using var command = new NpgsqlCommand(sql, _connection, transaction);
            await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
    }
}
