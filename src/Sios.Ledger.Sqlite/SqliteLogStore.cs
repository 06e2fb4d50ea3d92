using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;
using Sios.Ledger.Storage;

namespace Sios.Ledger.Sqlite;

/// <summary>
/// The embedded log store: one SQLite file in WAL mode with synchronous=FULL, read concurrently by any number of
/// threads or processes, written by the single holder of the <c>&lt;database&gt;.lock</c> file lock.
/// </summary>
public sealed class SqliteLogStore : ILogStore
{
    private const int CheckpointPageSize = 256;
    private const int MaxTileBytes = 256 * 32;

    private const string StoredSizeSql = "SELECT coalesce(max(idx) + 1, 0) FROM entries;";
    private const string LatestCheckpointSizeSql = "SELECT max(size) FROM checkpoints;";

    private readonly string _databasePath;
    private readonly ReaderPool _readers;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly SqliteConnection _connection;
    private WriterState? _writer;
    private Exception? _writeFailure;
    private int _disposed;

    private SqliteLogStore(string databasePath, SqliteConnection connection)
    {
        _databasePath = databasePath;
        _connection = connection;
        _readers = new ReaderPool(databasePath);
    }

    /// <summary>Full path of the database file.</summary>
    public string DatabasePath => _databasePath;

    /// <summary>
    /// Opens the log at <paramref name="databasePath"/>, creating the file and its schema if absent. Reading needs
    /// nothing more; writing needs <see cref="AcquireWriterAsync"/>.
    /// </summary>
    /// <exception cref="NotSupportedException">The file was written by a newer SIOS with a newer schema.</exception>
    /// <exception cref="InvalidDataException">The file is not a SIOS log.</exception>
    public static SqliteLogStore Open(string databasePath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(databasePath);
        var fullPath = Path.GetFullPath(databasePath);
        var directory = Path.GetDirectoryName(fullPath);
        if (directory is not null && !Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"the directory of the log database does not exist: {directory}");
        }

        var connection = SqliteSchema.OpenWriter(fullPath);
        try
        {
            SqliteSchema.EnsureSchema(connection, fullPath);
            return new SqliteLogStore(fullPath, connection);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public Task<long> GetStoredSizeAsync(CancellationToken cancellationToken = default) =>
        ReadAsync(static (connection, _) => QueryLong(connection, StoredSizeSql) ?? 0, cancellationToken);

    /// <inheritdoc />
    public Task<StoredCheckpoint?> GetLatestCheckpointAsync(CancellationToken cancellationToken = default) =>
        ReadAsync(
            static (connection, _) =>
            {
                using var command = connection.CreateCommand();
                command.CommandText = "SELECT size, note, previous FROM checkpoints ORDER BY size DESC LIMIT 1;";
                using var reader = command.ExecuteReader();
                return reader.Read() ? ReadCheckpoint(reader) : null;
            },
            cancellationToken);

    /// <inheritdoc />
    public async IAsyncEnumerable<StoredCheckpoint> ReadCheckpointsAsync(
        long fromSize, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fromSize);
        var next = fromSize;
        while (true)
        {
            // Paged, one short read transaction per page, so a slow consumer never pins a WAL snapshot.
            var page = await ReadAsync((connection, token) => ReadCheckpointPage(connection, next, token), cancellationToken)
                .ConfigureAwait(false);
            foreach (var checkpoint in page)
            {
                yield return checkpoint;
            }

            if (page.Count < CheckpointPageSize)
            {
                yield break;
            }

            next = page[^1].Size + 1;
        }
    }

    /// <inheritdoc />
    public Task<byte[]?> ReadTileAsync(int level, long index, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(level);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        return ReadAsync(
            (connection, _) =>
            {
                using var command = connection.CreateCommand();
                command.CommandText = "SELECT hashes FROM tiles WHERE level = $level AND idx = $idx;";
                command.Parameters.AddWithValue("$level", level);
                command.Parameters.AddWithValue("$idx", index);
                using var reader = command.ExecuteReader();
                return reader.Read() ? reader.GetFieldValue<byte[]>(0) : null;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<byte[]>> ReadEntriesAsync(long start, int count, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return ReadAsync<IReadOnlyList<byte[]>>(
            (connection, token) =>
            {
                var entries = new List<byte[]>(Math.Min(count, 4096));
                if (count == 0)
                {
                    return entries;
                }

                using var command = connection.CreateCommand();
                command.CommandText = "SELECT idx, data FROM entries WHERE idx >= $start ORDER BY idx LIMIT $count;";
                command.Parameters.AddWithValue("$start", start);
                command.Parameters.AddWithValue("$count", count);
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    token.ThrowIfCancellationRequested();
                    if (reader.GetInt64(0) != start + entries.Count)
                    {
                        break;
                    }

                    entries.Add(reader.GetFieldValue<byte[]>(1));
                }

                return entries;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<TailSeal?> ReadTailSealAsync(CancellationToken cancellationToken = default) =>
        ReadAsync(
            static (connection, _) =>
            {
                using var command = connection.CreateCommand();
                command.CommandText = "SELECT size, tag FROM tail_seal WHERE one = 1;";
                using var reader = command.ExecuteReader();
                return reader.Read() ? new TailSeal(reader.GetInt64(0), reader.GetFieldValue<byte[]>(1)) : null;
            },
            cancellationToken);

    /// <inheritdoc />
    public async Task DiscardTailAsync(long size, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        await WriteAsync(writer => writer.DiscardTail(size, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

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

            var writerLock = WriterLock.Acquire(_databasePath);
            try
            {
                _writer = new WriterState(_connection, writerLock);
            }
            catch
            {
                writerLock.Dispose();
                throw;
            }
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <inheritdoc />
    public async Task WriteBatchAsync(LogBatch batch, CancellationToken cancellationToken = default)
    {
        ValidateBatch(batch);
        await WriteAsync(writer => writer.WriteBatch(batch, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task WriteCheckpointAsync(StoredCheckpoint checkpoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentNullException.ThrowIfNull(checkpoint.Note);
        ArgumentOutOfRangeException.ThrowIfNegative(checkpoint.Size);
        if (checkpoint.Note.Length == 0)
        {
            throw new ArgumentException("the checkpoint note is empty; store the signed note bytes", nameof(checkpoint));
        }

        await WriteAsync(writer => writer.WriteCheckpoint(checkpoint, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs one write under the write gate; a rejection throws, any other failure poisons the writer.</summary>
    private async Task WriteAsync(Func<WriterState, string?> write, CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var writer = RequireWriter();
            cancellationToken.ThrowIfCancellationRequested();
            ThrowIfRejected(Guard(() => write(writer)));
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>Waits for a write in progress, closes every connection, then releases the writer lock.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _writeGate.WaitAsync().ConfigureAwait(false);
        try
        {
            // The connection closes before the lock is released, so no write of ours can land after a new writer starts.
            _writer?.DisposeCommands();
            _connection.Dispose();
            _writer?.Lock.Dispose();
            _writer = null;
            _readers.Dispose();
        }
        finally
        {
            // Released, not disposed: callers still queued on the gate must get through to see ObjectDisposedException.
            _writeGate.Release();
        }
    }

    /// <summary>Reads a PRAGMA on the read-write connection, for tests that check the durability settings.</summary>
    internal string? ReadWriterPragma(string name)
    {
        if (!name.All(c => char.IsAsciiLetter(c) || c == '_'))
        {
            throw new ArgumentException("not a PRAGMA name", nameof(name));
        }

        _writeGate.Wait();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            return Convert.ToString(SqliteSchema.Scalar(_connection, $"PRAGMA {name};"), CultureInfo.InvariantCulture);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private static void ValidateBatch(LogBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(batch.Entries);
        ArgumentNullException.ThrowIfNull(batch.Tiles);
        ArgumentOutOfRangeException.ThrowIfNegative(batch.Start);
        foreach (var tile in batch.Tiles)
        {
            if (tile is null || tile.Hashes is null)
            {
                throw new ArgumentException("the batch holds a null tile or tile content", nameof(batch));
            }

            if (tile.Level < 0 || tile.Index < 0)
            {
                throw new ArgumentException($"tile ({tile.Level}, {tile.Index}) has a negative coordinate", nameof(batch));
            }

            if (tile.Hashes.Length == 0 || tile.Hashes.Length > MaxTileBytes || tile.Hashes.Length % 32 != 0)
            {
                throw new ArgumentException(
                    $"tile ({tile.Level}, {tile.Index}) holds {tile.Hashes.Length} bytes; a tile is 1 to 256 hashes of 32 bytes",
                    nameof(batch));
            }
        }
    }

    private static long? QueryLong(SqliteConnection connection, string sql)
    {
        var value = SqliteSchema.Scalar(connection, sql);
        return value is null or DBNull ? null : Convert.ToInt64(value, CultureInfo.InvariantCulture);
    }

    private static List<StoredCheckpoint> ReadCheckpointPage(SqliteConnection connection, long fromSize, CancellationToken token)
    {
        var page = new List<StoredCheckpoint>();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT size, note, previous FROM checkpoints WHERE size >= $from ORDER BY size LIMIT $limit;";
        command.Parameters.AddWithValue("$from", fromSize);
        command.Parameters.AddWithValue("$limit", CheckpointPageSize);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            token.ThrowIfCancellationRequested();
            page.Add(ReadCheckpoint(reader));
        }

        return page;
    }

    private static StoredCheckpoint ReadCheckpoint(SqliteDataReader reader) =>
        new(reader.GetInt64(0), reader.GetFieldValue<byte[]>(1)) { Previous = reader.GetInt64(2) };

    // A rejection (wrong start, shrinking checkpoint) was rolled back before anything changed: the writer stays usable.
    private static void ThrowIfRejected(string? rejection)
    {
        if (rejection is not null)
        {
            throw new InvalidOperationException(rejection);
        }
    }

    // Any failure while writing leaves the outcome on disk unknown to this process, so the writer refuses further
    // writes until the store is reopened and the log recovered.
    private string? Guard(Func<string?> write)
    {
        try
        {
            return write();
        }
        catch (Exception ex)
        {
            _writeFailure = ex;
            throw;
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
            throw new InvalidOperationException(
                "an earlier write failed, so this writer is unusable; dispose the store and reopen it to recover",
                _writeFailure);
        }

        return _writer;
    }

    // The driver's async methods run synchronously anyway; wrapping the synchronous read keeps one code path and
    // reports every failure, cancellation included, through the returned task.
    private Task<T> ReadAsync<T>(Func<SqliteConnection, CancellationToken, T> read, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellationToken);
        }

        try
        {
            using var lease = _readers.Rent();
            try
            {
                return Task.FromResult(read(lease.Connection, cancellationToken));
            }
            catch
            {
                lease.Faulted = true;
                throw;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellationToken);
        }
        catch (Exception ex)
        {
            return Task.FromException<T>(ex);
        }
    }

    // The writer's prepared statements, reused for every batch: preparing per row would dominate the insert cost.
    private sealed class WriterState
    {
        private readonly SqliteConnection _connection;
        private readonly SqliteCommand _insertEntry;
        private readonly SqliteParameter _entryIndex;
        private readonly SqliteParameter _entryData;
        private readonly SqliteCommand _upsertTile;
        private readonly SqliteParameter _tileLevel;
        private readonly SqliteParameter _tileIndex;
        private readonly SqliteParameter _tileHashes;
        private readonly SqliteCommand _storedSize;
        private readonly SqliteCommand _latestCheckpointSize;
        private readonly SqliteCommand _upsertCheckpoint;
        private readonly SqliteParameter _checkpointSize;
        private readonly SqliteParameter _checkpointNote;
        private readonly SqliteCommand _upsertSeal;
        private readonly SqliteParameter _sealSize;
        private readonly SqliteParameter _sealTag;
        private readonly SqliteCommand _deleteSeal;

        public WriterState(SqliteConnection connection, WriterLock writerLock)
        {
            _connection = connection;
            Lock = writerLock;
            _insertEntry = Command("INSERT INTO entries(idx, data) VALUES($idx, $data);");
            _entryIndex = _insertEntry.Parameters.Add("$idx", SqliteType.Integer);
            _entryData = _insertEntry.Parameters.Add("$data", SqliteType.Blob);
            _upsertTile = Command(
                "INSERT INTO tiles(level, idx, hashes) VALUES($level, $idx, $hashes) "
                + "ON CONFLICT(level, idx) DO UPDATE SET hashes = excluded.hashes;");
            _tileLevel = _upsertTile.Parameters.Add("$level", SqliteType.Integer);
            _tileIndex = _upsertTile.Parameters.Add("$idx", SqliteType.Integer);
            _tileHashes = _upsertTile.Parameters.Add("$hashes", SqliteType.Blob);
            _storedSize = Command(StoredSizeSql);
            _latestCheckpointSize = Command(LatestCheckpointSizeSql);
            _upsertCheckpoint = Command(
                "INSERT INTO checkpoints(size, note, previous) "
                + "VALUES($size, $note, coalesce((SELECT max(size) FROM checkpoints WHERE size < $size), -1)) "
                + "ON CONFLICT(size) DO UPDATE SET note = excluded.note;");
            _checkpointSize = _upsertCheckpoint.Parameters.Add("$size", SqliteType.Integer);
            _checkpointNote = _upsertCheckpoint.Parameters.Add("$note", SqliteType.Blob);
            _upsertSeal = Command(
                "INSERT INTO tail_seal(one, size, tag) VALUES(1, $size, $tag) "
                + "ON CONFLICT(one) DO UPDATE SET size = excluded.size, tag = excluded.tag;");
            _sealSize = _upsertSeal.Parameters.Add("$size", SqliteType.Integer);
            _sealTag = _upsertSeal.Parameters.Add("$tag", SqliteType.Blob);
            _deleteSeal = Command("DELETE FROM tail_seal;");
            foreach (var command in new[] { _insertEntry, _upsertTile, _upsertCheckpoint, _upsertSeal, _deleteSeal })
            {
                command.Prepare();
            }
        }

        public WriterLock Lock { get; }

        public string? WriteBatch(LogBatch batch, CancellationToken cancellationToken)
        {
            // IMMEDIATE: the write lock is taken now, and until Commit returns nothing is visible to any reader. Any
            // exception before Commit disposes the transaction, which rolls the whole batch back.
            using var transaction = _connection.BeginTransaction(deferred: false);
            Enlist(transaction);
            var stored = ScalarLong(_storedSize) ?? 0;
            if (batch.Start != stored)
            {
                return
                    $"the batch starts at index {batch.Start} but the log holds {stored} entries; a batch must start "
                    + "at the stored size (was another writer running, or a batch skipped?)";
            }

            var index = batch.Start;
            foreach (var entry in batch.Entries)
            {
                cancellationToken.ThrowIfCancellationRequested();
                _entryIndex.Value = index++;
                _entryData.Value = AsArray(entry);
                _insertEntry.ExecuteNonQuery();
            }

            foreach (var tile in batch.Tiles)
            {
                _tileLevel.Value = tile.Level;
                _tileIndex.Value = tile.Index;
                _tileHashes.Value = tile.Hashes;
                _upsertTile.ExecuteNonQuery();
            }

            // The seal is replaced in the batch's own transaction: it always describes the tree the stored rows make.
            if (batch.TailSeal is { } seal)
            {
                _sealSize.Value = index;
                _sealTag.Value = seal;
                _upsertSeal.ExecuteNonQuery();
            }
            else
            {
                _deleteSeal.ExecuteNonQuery();
            }

            cancellationToken.ThrowIfCancellationRequested();

            // Durability point: with synchronous=FULL the WAL is fsynced before Commit returns. If the fsync itself
            // fails SQLite reports an error, yet the frames may reach the disk and reappear after a restart; the
            // writer is then poisoned, and recovery checks the stored tree against the last signed checkpoint.
            transaction.Commit();
            return null;
        }

        public string? WriteCheckpoint(StoredCheckpoint checkpoint, CancellationToken cancellationToken)
        {
            using var transaction = _connection.BeginTransaction(deferred: false);
            Enlist(transaction);
            var latest = ScalarLong(_latestCheckpointSize);
            if (checkpoint.Size < latest)
            {
                return
                    $"checkpoint size {checkpoint.Size} is below the latest stored checkpoint size {latest}; "
                    + "checkpoints never shrink";
            }

            var stored = ScalarLong(_storedSize) ?? 0;
            if (checkpoint.Size > stored)
            {
                return
                    $"checkpoint size {checkpoint.Size} exceeds the {stored} stored entries; a checkpoint may only "
                    + "cover entries already made durable";
            }

            _checkpointSize.Value = checkpoint.Size;
            _checkpointNote.Value = checkpoint.Note;
            _upsertCheckpoint.ExecuteNonQuery();

            // Durability point: the checkpoint is fsynced with the WAL before Commit returns.
            transaction.Commit();
            return null;
        }

        public string? DiscardTail(long size, CancellationToken cancellationToken)
        {
            using var transaction = _connection.BeginTransaction(deferred: false);
            Enlist(transaction);
            var latest = ScalarLong(_latestCheckpointSize);
            if (latest > size)
            {
                return $"a signed checkpoint covers {latest} entries; a tail can only be discarded past the last checkpoint, not below it ({size})";
            }

            using var deleteEntries = Command("DELETE FROM entries WHERE idx >= $size;");
            deleteEntries.Transaction = transaction;
            deleteEntries.Parameters.AddWithValue("$size", size);
            deleteEntries.ExecuteNonQuery();

            // Cut every level back to the tiles a tree of this size has: its full tiles, then a partial one of its width.
            for (var level = 0; level < 8; level++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var full = Sios.Verify.Tiles.TilePath.FullTileCount(level, size);
                var width = Sios.Verify.Tiles.TilePath.PartialWidth(level, size);
                using var cut = Command(
                    "DELETE FROM tiles WHERE level = $level AND idx >= $keep; "
                    + "UPDATE tiles SET hashes = substr(hashes, 1, $bytes) WHERE level = $level AND idx = $partial AND length(hashes) > $bytes;");
                cut.Transaction = transaction;
                cut.Parameters.AddWithValue("$level", level);
                cut.Parameters.AddWithValue("$keep", width == 0 ? full : full + 1);
                cut.Parameters.AddWithValue("$partial", full);
                cut.Parameters.AddWithValue("$bytes", width * 32);
                cut.ExecuteNonQuery();
            }

            _deleteSeal.ExecuteNonQuery();

            // Durability point: the cut is fsynced with the WAL before Commit returns; until then the tail stands whole.
            transaction.Commit();
            return null;
        }

        public void DisposeCommands()
        {
            foreach (var command in new[] { _insertEntry, _upsertTile, _storedSize, _latestCheckpointSize, _upsertCheckpoint, _upsertSeal, _deleteSeal })
            {
                command.Dispose();
            }
        }

        private static long? ScalarLong(SqliteCommand command)
        {
            var value = command.ExecuteScalar();
            return value is null or DBNull ? null : Convert.ToInt64(value, CultureInfo.InvariantCulture);
        }

        // The driver binds byte[] only; an entry that already is a whole array is passed without a copy.
        private static byte[] AsArray(ReadOnlyMemory<byte> entry) =>
            MemoryMarshal.TryGetArray(entry, out var segment)
            && segment.Offset == 0
            && segment.Array is { } array
            && segment.Count == array.Length
                ? array
                : entry.ToArray();

        private SqliteCommand Command(string sql)
        {
            var command = _connection.CreateCommand();
            command.CommandText = sql;
            return command;
        }

        private void Enlist(SqliteTransaction transaction)
        {
            _insertEntry.Transaction = transaction;
            _upsertTile.Transaction = transaction;
            _storedSize.Transaction = transaction;
            _latestCheckpointSize.Transaction = transaction;
            _upsertCheckpoint.Transaction = transaction;
            _upsertSeal.Transaction = transaction;
            _deleteSeal.Transaction = transaction;
        }
    }
}
