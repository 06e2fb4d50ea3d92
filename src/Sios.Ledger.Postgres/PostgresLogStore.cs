using Npgsql;
using Sios.Ledger.Storage;

namespace Sios.Ledger.Postgres;

/// <summary>
/// The log store several nodes share: one PostgreSQL schema per log, read through a connection pool by any number of
/// nodes, written only through the writer connection that holds the log's advisory lock. Every write runs on that one
/// connection, so a writer whose session ended (a network cut, a terminated backend, a failover) can never write again:
/// its lock went with the session, and its next write fails and poisons it.
/// </summary>
public sealed partial class PostgresLogStore : ILogStore
{
    private const int CheckpointPageSize = 256;

    private readonly NpgsqlDataSource _readers;
    private readonly NpgsqlConnectionStringBuilder _settings;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private WriterState? _writer;
    private Exception? _writeFailure;
    private int _disposed;

    private PostgresLogStore(NpgsqlConnectionStringBuilder settings, string schema, NpgsqlDataSource readers)
    {
        _settings = settings;
        Schema = schema;
        _readers = readers;
    }

    /// <summary>The PostgreSQL schema holding this log's tables.</summary>
    public string Schema { get; }

    /// <summary>
    /// Opens the log in <paramref name="schema"/> of the database <paramref name="connectionString"/> names, creating the
    /// schema and its tables if absent. Reading needs nothing more; writing needs <see cref="AcquireWriterAsync"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The schema name is not a plain lower-case identifier.</exception>
    /// <exception cref="NotSupportedException">The schema was written by a newer SIOS.</exception>
    /// <exception cref="InvalidDataException">The schema exists but is not a SIOS log.</exception>
    /// <exception cref="NpgsqlException">The database cannot be reached.</exception>
    public static PostgresLogStore Open(string connectionString, string schema = "sios")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ArgumentNullException.ThrowIfNull(schema);
        if (!PostgresSchema.IsValidName(schema))
        {
            throw new ArgumentException($"'{schema}' is not a schema name SIOS uses: 1 to 63 characters of a-z, 0-9 and _, not starting with a digit", nameof(schema));
        }

        var settings = new NpgsqlConnectionStringBuilder(connectionString);
        // The pool must never hand a reader a session another reader left inside a transaction or with changed settings.
        settings.NoResetOnClose = false;
        var readers = new NpgsqlDataSourceBuilder(settings.ConnectionString).Build();
        try
        {
            using (var connection = readers.OpenConnection())
            {
                PostgresSchema.Ensure(connection, schema);
            }

            return new PostgresLogStore(settings, schema, readers);
        }
        catch
        {
            readers.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public Task<long> GetStoredSizeAsync(CancellationToken cancellationToken = default) =>
        ReadAsync(async (connection, token) => await ScalarLongAsync(connection, null, $"SELECT coalesce(max(idx) + 1, 0) FROM {Schema}.entries;", token).ConfigureAwait(false) ?? 0, cancellationToken);

    /// <inheritdoc />
    public Task<StoredCheckpoint?> GetLatestCheckpointAsync(CancellationToken cancellationToken = default) =>
        ReadAsync(
            async (connection, token) =>
            {
                await using var command = new NpgsqlCommand($"SELECT size, note, previous FROM {Schema}.checkpoints ORDER BY size DESC LIMIT 1;", connection);
                await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
                return await reader.ReadAsync(token).ConfigureAwait(false) ? ReadCheckpoint(reader) : null;
            },
            cancellationToken);

    /// <inheritdoc />
    public IAsyncEnumerable<StoredCheckpoint> ReadCheckpointsAsync(long fromSize, CancellationToken cancellationToken = default) =>
        // Paged, one short statement per page, so a slow consumer holds no snapshot and no pooled connection.
        StoreArguments.PagedCheckpointsAsync(fromSize, CheckpointPageSize, (next, token) => ReadAsync((connection, t) => ReadCheckpointPageAsync(connection, next, t), token), cancellationToken);

    /// <inheritdoc />
    public Task<byte[]?> ReadTileAsync(int level, long index, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(level);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        return ReadAsync(
            async (connection, token) =>
            {
                await using var command = new NpgsqlCommand($"SELECT hashes FROM {Schema}.tiles WHERE level = @level AND idx = @idx;", connection);
                command.Parameters.AddWithValue("level", level);
                command.Parameters.AddWithValue("idx", index);
                return await command.ExecuteScalarAsync(token).ConfigureAwait(false) as byte[];
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<byte[]>> ReadEntriesAsync(long start, int count, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return ReadAsync<IReadOnlyList<byte[]>>(
            async (connection, token) =>
            {
                var entries = new List<byte[]>(Math.Min(count, 4096));
                if (count == 0)
                {
                    return entries;
                }

                await using var command = new NpgsqlCommand($"SELECT idx, data FROM {Schema}.entries WHERE idx >= @start ORDER BY idx LIMIT @count;", connection);
                command.Parameters.AddWithValue("start", start);
                command.Parameters.AddWithValue("count", count);
                await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
                while (await reader.ReadAsync(token).ConfigureAwait(false))
                {
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
            async (connection, token) =>
            {
                await using var command = new NpgsqlCommand($"SELECT size, tag FROM {Schema}.tail_seal WHERE one = 1;", connection);
                await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
                return await reader.ReadAsync(token).ConfigureAwait(false) ? new TailSeal(reader.GetInt64(0), reader.GetFieldValue<byte[]>(1)) : null;
            },
            cancellationToken);

    /// <summary>Closes the writer's session (releasing its lock) and the readers' pool.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _writeGate.WaitAsync().ConfigureAwait(false);
        try
        {
            // The writer's connection is unpooled: closing it ends the session, and the session's end frees the lock.
            if (_writer is not null)
            {
                await _writer.DisposeAsync().ConfigureAwait(false);
                _writer = null;
            }

            await _readers.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            // Released, not disposed: callers still queued on the gate must get through to see ObjectDisposedException.
            _writeGate.Release();
        }
    }

    private static async Task<long?> ScalarLongAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken token)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        var value = await command.ExecuteScalarAsync(token).ConfigureAwait(false);
        return value is null or DBNull ? null : Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static StoredCheckpoint ReadCheckpoint(NpgsqlDataReader reader) =>
        new(reader.GetInt64(0), reader.GetFieldValue<byte[]>(1)) { Previous = reader.GetInt64(2) };

    private async Task<List<StoredCheckpoint>> ReadCheckpointPageAsync(NpgsqlConnection connection, long fromSize, CancellationToken token)
    {
        var page = new List<StoredCheckpoint>();
        await using var command = new NpgsqlCommand($"SELECT size, note, previous FROM {Schema}.checkpoints WHERE size >= @from ORDER BY size LIMIT {CheckpointPageSize};", connection);
        command.Parameters.AddWithValue("from", fromSize);
        await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
        while (await reader.ReadAsync(token).ConfigureAwait(false))
        {
            page.Add(ReadCheckpoint(reader));
        }

        return page;
    }

    private async Task<T> ReadAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> read, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        cancellationToken.ThrowIfCancellationRequested();
        await using var connection = await _readers.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await read(connection, cancellationToken).ConfigureAwait(false);
    }
}
