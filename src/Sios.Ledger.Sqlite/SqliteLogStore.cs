using System.Globalization;
using Microsoft.Data.Sqlite;
using Sios.Ledger.Storage;

namespace Sios.Ledger.Sqlite;

/// <summary>
/// The embedded log store: one SQLite file in WAL mode with synchronous=FULL, read concurrently by any number of
/// threads or processes, written by the single holder of the <c>&lt;database&gt;.lock</c> file lock.
/// </summary>
public sealed partial class SqliteLogStore : ILogStore
{
    private const int CheckpointPageSize = 256;

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
    public IAsyncEnumerable<StoredCheckpoint> ReadCheckpointsAsync(long fromSize, CancellationToken cancellationToken = default) =>
        // Paged, one short read transaction per page, so a slow consumer never pins a WAL snapshot.
        StoreArguments.PagedCheckpointsAsync(fromSize, CheckpointPageSize, (next, token) => ReadAsync((connection, t) => ReadCheckpointPage(connection, next, t), token), cancellationToken);

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
        StoreArguments.Batch(batch);
        await WriteAsync(writer => writer.WriteBatch(batch, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task WriteCheckpointAsync(StoredCheckpoint checkpoint, CancellationToken cancellationToken = default)
    {
        StoreArguments.Checkpoint(checkpoint);

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
}
