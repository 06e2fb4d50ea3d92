using Npgsql;
using NpgsqlTypes;
using Sios.Ledger.Pipeline;
using Sios.Ledger.Storage;

namespace Sios.Ledger.Postgres;

/// <summary>
/// A writer's own PostgreSQL session: unpooled, so that closing it ends the session and every lock it holds. Two
/// session-level advisory locks per log (their keys are the schema's OID under two SIOS lock spaces): <em>membership</em>,
/// held for the writer's life, shared by the nodes serving the log and exclusive for a sole writer (a signer rotation);
/// and the <em>turn</em>, held across one batch and its checkpoint. Every write runs on this session, so a writer whose
/// session ended (a crash, a cut, a failover) has lost its locks and can write nothing more: its next write fails.
/// </summary>
internal sealed class WriterSession : IAsyncDisposable
{
    /// <summary>How long a writer waits for its turn before its batch is refused as backpressure.</summary>
    public static readonly TimeSpan TurnTimeout = TimeSpan.FromSeconds(30);

    private const string LockNotAvailable = "55P03";

    private readonly long _turnKey;
    private readonly string _schema;

    private WriterSession(NpgsqlConnection connection, string schema, bool sole, long turnKey)
    {
        Connection = connection;
        _schema = schema;
        Sole = sole;
        _turnKey = turnKey;
        BackendId = connection.ProcessID;
    }

    /// <summary>The session's connection, on which every write runs.</summary>
    public NpgsqlConnection Connection { get; }

    /// <summary>Whether this writer holds the log alone (no turns needed).</summary>
    public bool Sole { get; }

    /// <summary>The server process serving this session.</summary>
    public int BackendId { get; }

    /// <summary>Opens the session and joins the log's writers (alone when <paramref name="sole"/>), or throws <see cref="LogInUseException"/>.</summary>
    public static async Task<WriterSession> OpenAsync(NpgsqlConnectionStringBuilder settings, string schema, bool sole, CancellationToken ct)
    {
        var own = new NpgsqlConnectionStringBuilder(settings.ConnectionString)
        {
            Pooling = false,
            ApplicationName = $"sios-writer {Environment.MachineName} pid {Environment.ProcessId}",
        };
        var connection = new NpgsqlConnection(own.ConnectionString);
        try
        {
            await connection.OpenAsync(ct).ConfigureAwait(false);
            await CheckDurabilityAsync(connection, ct).ConfigureAwait(false);
            var oid = await ScalarAsync(connection, $"SELECT oid::bigint FROM pg_namespace WHERE nspname = '{schema}';", ct).ConfigureAwait(false) as long?
                ?? throw new InvalidOperationException($"the PostgreSQL schema '{schema}' is gone");
            var member = (PostgresSchema.LockSpace << 32) | oid;
            await using (var join = new NpgsqlCommand(sole ? "SELECT pg_try_advisory_lock(@key);" : "SELECT pg_try_advisory_lock_shared(@key);", connection))
            {
                join.Parameters.AddWithValue("key", member);
                if (await join.ExecuteScalarAsync(ct).ConfigureAwait(false) is not true)
                {
                    throw new LogInUseException(await DescribeHoldersAsync(connection, schema, member, sole, ct).ConfigureAwait(false));
                }
            }

            // A turn waited for longer than this is refused, not waited for without end behind a stuck node.
            await using (var timeout = new NpgsqlCommand($"SET lock_timeout = '{(int)TurnTimeout.TotalMilliseconds}ms';", connection))
            {
                await timeout.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            return new WriterSession(connection, schema, sole, ((PostgresSchema.LockSpace + 1) << 32) | oid);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Waits for the log's write turn; a wait past <see cref="TurnTimeout"/> is <see cref="LogBackpressureException"/>.</summary>
    public async Task LockTurnAsync(CancellationToken ct)
    {
        await using var take = new NpgsqlCommand("SELECT pg_advisory_lock(@key);", Connection);
        take.Parameters.AddWithValue("key", _turnKey);
        try
        {
            await take.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState == LockNotAvailable)
        {
            throw new LogBackpressureException($"another node has held the write turn of the log in schema '{_schema}' for {TurnTimeout.TotalSeconds:0} s", TimeSpan.FromSeconds(5));
        }
    }

    /// <summary>Ends the turn (a failure here means the session is gone, and the turn with it).</summary>
    public async Task UnlockTurnAsync()
    {
        await using var release = new NpgsqlCommand("SELECT pg_advisory_unlock(@key);", Connection);
        release.Parameters.AddWithValue("key", _turnKey);
        await release.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Ends the session, and with it every lock it holds; a session the server or the network already ended has nothing left to close.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await Connection.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or IOException or System.Net.Sockets.SocketException)
        {
            // Already broken: the server ended the session, and its locks with it.
        }
    }

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

    private static async Task<object?> ScalarAsync(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync(ct).ConfigureAwait(false);
        return value is DBNull ? null : value;
    }

    private static async Task<string> DescribeHoldersAsync(NpgsqlConnection connection, string schema, long key, bool sole, CancellationToken ct)
    {
        var message = sole
            ? $"the log in PostgreSQL schema '{schema}' has other writers, and this needs to be its only one: stop them first"
            : $"the log in PostgreSQL schema '{schema}' is held by its only writer";
        try
        {
            await using var who = new NpgsqlCommand(
                "SELECT a.application_name, host(a.client_addr), a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                + "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = @high AND l.objid = @low AND l.objsubid = 1 AND l.pid <> pg_backend_pid() LIMIT 3;",
                connection);
            who.Parameters.AddWithValue("high", NpgsqlDbType.Oid, (uint)(key >> 32));
            who.Parameters.AddWithValue("low", NpgsqlDbType.Oid, (uint)(key & 0xFFFFFFFF));
            await using var reader = await who.ExecuteReaderAsync(ct).ConfigureAwait(false);
            var holders = new List<string>();
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                if (!reader.IsDBNull(0))
                {
                    var from = reader.IsDBNull(1) ? "a local socket" : reader.GetString(1);
                    holders.Add($"{reader.GetString(0)}, connected from {from} since {reader.GetDateTime(2):u}");
                }
            }

            if (holders.Count > 0)
            {
                message += $" ({string.Join("; ", holders)})";
            }
        }
        catch (PostgresException)
        {
            // Naming the holders is a courtesy; a server that hides pg_stat_activity still refuses.
        }

        return message;
    }
}
