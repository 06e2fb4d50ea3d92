using System.Text.RegularExpressions;
using Npgsql;
using Sios.Ledger.State;

namespace Sios.Ledger.Postgres;

/// <summary>
/// The state every node of a shared log reads and changes: the operator's state documents (API keys, brain registry)
/// as rows of the log's schema (<c>state</c>), the keys' rate budgets and the vault's shelves of records. Every node
/// serving the log reads and changes the same ones: a change runs in a transaction holding the row's lock
/// (<c>SELECT … FOR UPDATE</c>) and bumps its version; a read by any node compares versions, one indexed row, so a
/// revocation made on one node is refused by every node at its next request. The rows carry the documents exactly as
/// the files would, MAC and all: someone who can write to the database but lacks the passphrase is caught as a hand
/// edit of a file is.
/// </summary>
public sealed partial class PostgresSharedState : IDisposable
{
    private const int LockTimeoutSeconds = 10;

    private readonly NpgsqlDataSource _source;
    private readonly string _display;

    private PostgresSharedState(NpgsqlDataSource source, string schema, string display)
    {
        _source = source;
        Schema = schema;
        _display = display;
        Budgets = new PostgresRateBudgets(source, schema, display);
    }

    /// <summary>The keys' rate budgets, shared by every node of the log (see <see cref="PostgresRateBudgets"/>).</summary>
    public IRateBudgets Budgets { get; }

    /// <summary>The schema whose <c>state</c> table holds the documents.</summary>
    public string Schema { get; }

    /// <summary>
    /// Opens the state of the log in <paramref name="schema"/> of the database <paramref name="connectionString"/> names,
    /// creating or upgrading the schema as <see cref="PostgresLogStore.Open"/> does.
    /// </summary>
    /// <exception cref="ArgumentException">The schema name is not a plain lower-case identifier.</exception>
    /// <exception cref="NotSupportedException">The schema was written by a newer SIOS.</exception>
    /// <exception cref="InvalidDataException">The schema exists but is not a SIOS log.</exception>
    /// <exception cref="NpgsqlException">The database cannot be reached.</exception>
    public static PostgresSharedState Open(string connectionString, string schema = "sios")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        if (!PostgresSchema.IsValidName(schema))
        {
            throw new ArgumentException($"'{schema}' is not a schema name SIOS uses", nameof(schema));
        }

        var settings = new NpgsqlConnectionStringBuilder(connectionString) { NoResetOnClose = false };
        var source = new NpgsqlDataSourceBuilder(settings.ConnectionString).Build();
        try
        {
            using (var connection = source.OpenConnection())
            {
                PostgresSchema.Ensure(connection, schema);
            }

            return new PostgresSharedState(source, schema, $"PostgreSQL {settings.Host}:{settings.Port}/{settings.Database} schema {schema}");
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    /// <summary>The document named <paramref name="name"/> (lower-case letters, digits and '-', up to 32).</summary>
    public IStateDocument Document(string name)
    {
        if (!ValidName().IsMatch(name))
        {
            throw new ArgumentException($"'{name}' is not a state document name", nameof(name));
        }

        return new Row(this, name);
    }

    /// <summary>The shelf of records named <paramref name="name"/> (as a document is named), shared by every node of the log.</summary>
    public IRecordShelf Shelf(string name)
    {
        if (!ValidName().IsMatch(name))
        {
            throw new ArgumentException($"'{name}' is not a shelf name", nameof(name));
        }

        return new PostgresRecordShelf(_source, Schema, name, _display);
    }

    /// <inheritdoc />
    public void Dispose() => _source.Dispose();

    private StateUnavailableException Unavailable(string name, Exception e) =>
        new($"the state '{name}' in {_display} cannot be reached: {e.Message}", e);

    [GeneratedRegex("^[a-z][a-z0-9-]{0,31}$", RegexOptions.CultureInvariant)]
    private static partial Regex ValidName();

    private sealed class Row(PostgresSharedState owner, string name) : IStateDocument
    {
        private string Table => owner.Schema + ".state";

        public string Location => $"{owner._display}, state '{name}'";

        public StateDocument Read()
        {
            try
            {
                using var connection = owner._source.OpenConnection();
                using var command = new NpgsqlCommand($"SELECT version, body FROM {Table} WHERE name = @n;", connection);
                command.Parameters.AddWithValue("n", name);
                using var reader = command.ExecuteReader();
                return reader.Read()
                    ? new StateDocument(reader.IsDBNull(1) ? null : reader.GetFieldValue<byte[]>(1), Stamp(reader.GetInt64(0)))
                    : new StateDocument(null, Stamp(0));
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                throw owner.Unavailable(name, e);
            }
        }

        public bool IsCurrent(StateStamp seen)
        {
            try
            {
                using var connection = owner._source.OpenConnection();
                using var command = new NpgsqlCommand($"SELECT version FROM {Table} WHERE name = @n;", connection);
                command.Parameters.AddWithValue("n", name);
                return Stamp(command.ExecuteScalar() is long version ? version : 0) == seen;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                throw owner.Unavailable(name, e);
            }
        }

        public async Task<T> ChangeAsync<T>(Func<byte[]?, CancellationToken, Task<StateChange<T>>> change, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(change);
            var changing = false;
            try
            {
                await using var connection = await owner._source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                // Bounded wait for another node's change; and never weaker durability than the log's own writes.
                await ExecuteAsync(connection, $"""
                    SET LOCAL lock_timeout = '{LockTimeoutSeconds}s';
                    SELECT set_config('synchronous_commit', 'on', true) WHERE current_setting('synchronous_commit') = 'off';
                    INSERT INTO {Table}(name, version, body) VALUES (@n, 0, NULL) ON CONFLICT (name) DO NOTHING;
                    """, null, cancellationToken).ConfigureAwait(false);
                byte[]? bytes;
                await using (var select = new NpgsqlCommand($"SELECT body FROM {Table} WHERE name = @n FOR UPDATE;", connection))
                {
                    select.Parameters.AddWithValue("n", name);
                    bytes = await select.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as byte[];
                }

                changing = true;
                var (write, result) = await change(bytes, cancellationToken).ConfigureAwait(false);
                changing = false;
                if (write is not null)
                {
                    await ExecuteAsync(connection, $"UPDATE {Table} SET version = version + 1, body = @b WHERE name = @n;", write, cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
                return result;
            }
            catch (PostgresException e) when (!changing && e.SqlState == PostgresErrorCodes.LockNotAvailable)
            {
                throw new StateBusyException($"another node has been changing the state '{name}' in {owner._display} for {LockTimeoutSeconds} s; try again", e);
            }
            catch (Exception e) when (!changing && e is NpgsqlException or TimeoutException)
            {
                throw owner.Unavailable(name, e);
            }
        }

        private async Task ExecuteAsync(NpgsqlConnection connection, string sql, byte[]? body, CancellationToken ct)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            command.Parameters.AddWithValue("n", name);
            if (body is not null)
            {
                command.Parameters.AddWithValue("b", body);
            }

            await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }

        private static StateStamp Stamp(long version) => new(0, version, Final: true);
    }
}
