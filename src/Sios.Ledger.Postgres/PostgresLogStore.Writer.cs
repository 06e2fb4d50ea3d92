using System.Globalization;
using System.Runtime.InteropServices;
using Npgsql;
using NpgsqlTypes;
using Sios.Ledger.Storage;
using Sios.Verify.Tiles;

namespace Sios.Ledger.Postgres;

// The writer side: the writes, each one transaction on the writer's session (WriterSession), within a turn.
public sealed partial class PostgresLogStore
{
    private bool _turnHeld;
    private bool _member;

    /// <inheritdoc />
    public bool SharedWriters => _member;

    /// <inheritdoc />
    public async Task RejoinAsync(CancellationToken cancellationToken = default)
    {
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            if (!_member)
            {
                throw new InvalidOperationException("only a writer that shares the log rejoins it; a sole writer reopens the store");
            }

            if (_writer is { } old)
            {
                _writer = null;
                _turnHeld = false;
                await old.DisposeAsync().ConfigureAwait(false);
            }

            _writer = new WriterState(await WriterSession.OpenAsync(_settings, Schema, sole: false, cancellationToken).ConfigureAwait(false), Schema);
            _writeFailure = null;
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <inheritdoc />
    public Task AcquireWriterAsync(CancellationToken cancellationToken = default) => JoinWritersAsync(sole: false, cancellationToken);

    /// <inheritdoc />
    public Task AcquireSoleWriterAsync(CancellationToken cancellationToken = default) => JoinWritersAsync(sole: true, cancellationToken);

    /// <inheritdoc />
    public async Task<IAsyncDisposable> TakeTurnAsync(CancellationToken cancellationToken = default)
    {
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var writer = RequireWriter();
            if (_turnHeld)
            {
                throw new InvalidOperationException("this writer already holds its turn");
            }

            if (!writer.Session.Sole)
            {
                writer.CommitStarted = false;
                await PoisonOnFailureAsync(() => writer.Session.LockTurnAsync(cancellationToken), cancellationToken).ConfigureAwait(false);
            }

            _turnHeld = true;
            return new Turn(this);
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
    internal int? WriterBackendId => _writer?.Session.BackendId;

    private async Task JoinWritersAsync(bool sole, CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            if (_writer is not null)
            {
                throw new InvalidOperationException("AcquireWriterAsync was already called on this store; call it once.");
            }

            _writer = new WriterState(await WriterSession.OpenAsync(_settings, Schema, sole, cancellationToken).ConfigureAwait(false), Schema);
            _member = !sole;
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private WriterState RequireWriter()
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

        return _writer;
    }

    /// <summary>
    /// Runs one write under the gate, inside the writer's turn (a turn of its own when none is held); a rejection throws
    /// and leaves the writer usable, any other failure poisons it.
    /// </summary>
    private async Task WriteAsync(Func<WriterState, Task<string?>> write, CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var writer = RequireWriter();
            cancellationToken.ThrowIfCancellationRequested();
            var ownTurn = !_turnHeld && !writer.Session.Sole;
            writer.CommitStarted = false;
            string? rejection = null;
            await PoisonOnFailureAsync(
                async () =>
                {
                    if (ownTurn)
                    {
                        await writer.Session.LockTurnAsync(cancellationToken).ConfigureAwait(false);
                    }

                    try
                    {
                        rejection = await write(writer).ConfigureAwait(false);
                    }
                    finally
                    {
                        // A session that broke cannot unlock, and throws here: it has lost the turn anyway, and is poisoned.
                        if (ownTurn)
                        {
                            await writer.Session.UnlockTurnAsync().ConfigureAwait(false);
                        }
                    }
                },
                cancellationToken).ConfigureAwait(false);
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

    private async Task PoisonOnFailureAsync(Func<Task> action, CancellationToken cancellationToken)
    {
        try
        {
            await action().ConfigureAwait(false);
        }
        catch (Exception e) when (e is Sios.Ledger.Pipeline.LogBackpressureException
            || (e is OperationCanceledException && cancellationToken.IsCancellationRequested && _writer?.CommitStarted != true))
        {
            // Waited too long for the turn, or cancelled before COMMIT was sent: nothing was written, the session is intact.
            throw;
        }
        catch (Exception e)
        {
            // Once COMMIT may have reached the server, or the session broke, whether the write landed is unknown here:
            // the writer stops, and the log recovers from what the store holds when it is reopened or rejoined. Its
            // session ends now: a live session would keep the turn (and every other node waiting) until then.
            _writeFailure = e;
            if (_writer is { } writer)
            {
                await writer.Session.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    private async Task EndTurnAsync()
    {
        await _writeGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_turnHeld && _writer is { } writer && _writeFailure is null && _disposed == 0 && !writer.Session.Sole)
            {
                await PoisonOnFailureAsync(writer.Session.UnlockTurnAsync, CancellationToken.None).ConfigureAwait(false);
            }

            _turnHeld = false;
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>A held turn; disposing it lets the next writer write.</summary>
    private sealed class Turn(PostgresLogStore store) : IAsyncDisposable
    {
        private int _ended;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _ended, 1) == 0)
            {
                await store.EndTurnAsync().ConfigureAwait(false);
            }
        }
    }

    private sealed class WriterState(WriterSession session, string schema) : IAsyncDisposable
    {
        private readonly NpgsqlConnection _connection = session.Connection;
        private readonly string _s = schema;

        public WriterSession Session { get; } = session;

        public bool CommitStarted { get; set; }

        public async Task<string?> WriteBatchAsync(LogBatch batch, CancellationToken ct)
        {
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

        public ValueTask DisposeAsync() => Session.DisposeAsync();

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
