using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;

namespace Sios.Ledger.Postgres;

/// <summary>The versioned tables of one SIOS log, kept in a PostgreSQL schema of its own.</summary>
internal static partial class PostgresSchema
{
    /// <summary>The schema version this build writes (in the <c>sios_meta</c> row); version 2 added <c>state</c>.</summary>
    public const int CurrentVersion = 2;

    /// <summary>What the <c>sios_meta</c> row says the schema holds, so a foreign schema is never mistaken for a log.</summary>
    public const string Kind = "sios-log";

    /// <summary>
    /// The high half of every advisory lock key SIOS takes (ASCII "SIOS"); the low half is the schema's OID, unique in the
    /// database, so two logs in one database never contend and no other application's keys are likely to collide.
    /// </summary>
    public const long LockSpace = 0x53494F53;

    /// <summary>A schema name SIOS accepts: lower-case, unquoted and short enough for PostgreSQL's 63-byte identifiers.</summary>
    public static bool IsValidName(string name) => ValidName().IsMatch(name);

    /// <summary>Creates the schema and its tables if absent, or checks that an existing one is a SIOS log this build can read.</summary>
    /// <exception cref="NotSupportedException">The schema was written by a newer SIOS.</exception>
    /// <exception cref="InvalidDataException">The schema exists but is not a SIOS log.</exception>
    public static void Ensure(NpgsqlConnection connection, string schema)
    {
        using var transaction = connection.BeginTransaction();
        // Two nodes starting at once on an empty database must not both create the tables: one waits for the other.
        Execute(connection, transaction, $"SELECT pg_advisory_xact_lock({LockSpace}, 0);");
        var exists = Scalar(connection, transaction, "SELECT count(*) FROM pg_namespace WHERE nspname = @s;", schema) is long n && n > 0;
        if (!exists)
        {
            Execute(connection, transaction, Create(schema));
            transaction.Commit();
            return;
        }

        var hasMeta = Scalar(connection, transaction, "SELECT to_regclass(@s)::text;", schema + ".sios_meta") is string;
        if (!hasMeta)
        {
            if (Scalar(connection, transaction, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = @s;", schema) is long tables && tables > 0)
            {
                throw new InvalidDataException($"the PostgreSQL schema '{schema}' holds tables but is not a SIOS log; name another schema for the log");
            }

            Execute(connection, transaction, Create(schema, withSchema: false));
            transaction.Commit();
            return;
        }

        int version;
        using var read = new NpgsqlCommand($"SELECT kind, version FROM {schema}.sios_meta WHERE one = 1;", connection, transaction);
        using (var reader = read.ExecuteReader())
        {
            if (!reader.Read() || reader.GetString(0) != Kind)
            {
                throw new InvalidDataException($"the PostgreSQL schema '{schema}' is not a SIOS log (its sios_meta row does not say {Kind})");
            }

            version = reader.GetInt32(1);
            if (version > CurrentVersion)
            {
                throw new NotSupportedException(
                    $"the log in PostgreSQL schema '{schema}' has schema version {version}, newer than this build's {CurrentVersion}; run a newer SIOS");
            }
        }

        if (version < CurrentVersion)
        {
            // Every step from an older version only adds; a node of the older build keeps working beside it.
            Execute(connection, transaction, StateTable(schema) + $"UPDATE {schema}.sios_meta SET version = {CurrentVersion} WHERE one = 1;");
        }

        transaction.Commit();
    }

    /// <summary>Runs <paramref name="sql"/> with <c>@s</c> bound to <paramref name="parameter"/> and returns the first column of its first row.</summary>
    public static object? Scalar(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, object? parameter = null)
    {
        using var command = new NpgsqlCommand(sql, connection, transaction);
        if (parameter is not null)
        {
            command.Parameters.AddWithValue("s", parameter);
        }

        var value = command.ExecuteScalar();
        return value is DBNull ? null : value;
    }

    /// <summary>Reads a server setting as text (<c>SHOW</c>).</summary>
    public static string Setting(NpgsqlConnection connection, string name) =>
        Convert.ToString(Scalar(connection, null, "SELECT current_setting(@s);", name), CultureInfo.InvariantCulture) ?? "";

    private static void Execute(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection, transaction);
        command.ExecuteNonQuery();
    }

    // The same tables and checks as the SQLite store, so the conformance suite means the same thing on both.
    private static string Create(string s, bool withSchema = true) => (withSchema ? $"CREATE SCHEMA {s};\n" : "") + $"""
        CREATE TABLE {s}.sios_meta(
            one integer PRIMARY KEY CHECK (one = 1),
            kind text NOT NULL,
            version integer NOT NULL
        );
        INSERT INTO {s}.sios_meta(one, kind, version) VALUES (1, '{Kind}', {CurrentVersion});
        CREATE TABLE {s}.entries(
            idx bigint PRIMARY KEY CHECK (idx >= 0),
            data bytea NOT NULL
        );
        CREATE TABLE {s}.tiles(
            level integer NOT NULL CHECK (level >= 0),
            idx bigint NOT NULL CHECK (idx >= 0),
            hashes bytea NOT NULL CHECK (length(hashes) BETWEEN 32 AND 8192 AND length(hashes) % 32 = 0),
            PRIMARY KEY (level, idx)
        );
        CREATE TABLE {s}.checkpoints(
            size bigint PRIMARY KEY CHECK (size >= 0),
            note bytea NOT NULL,
            previous bigint NOT NULL CHECK (previous >= -1 AND previous < size)
        );
        CREATE TABLE {s}.tail_seal(
            one integer PRIMARY KEY CHECK (one = 1),
            size bigint NOT NULL CHECK (size >= 0),
            tag bytea NOT NULL CHECK (length(tag) BETWEEN 1 AND 64)
        );
        """ + StateTable(s);

    // The operator's state documents (API keys, brain registry), each authenticated by its own MAC as the files are; the
    // keys' rate budgets, which every node draws on (levels as of 'at', by the database's clock); and the shelves of
    // records that protect themselves (the vault's encrypted answers, the stored responses' claims).
    private static string StateTable(string s) => $"""
        CREATE TABLE IF NOT EXISTS {s}.state(
            name text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 32 AND name ~ '^[a-z][a-z0-9-]*$'),
            version bigint NOT NULL CHECK (version >= 0),
            body bytea CHECK (length(body) <= 67108864)
        );
        CREATE TABLE IF NOT EXISTS {s}.budgets(
            key_id text PRIMARY KEY CHECK (length(key_id) BETWEEN 1 AND 64),
            requests double precision,
            tokens double precision,
            admitted boolean NOT NULL DEFAULT true,
            at timestamptz NOT NULL
        );
        CREATE TABLE IF NOT EXISTS {s}.shelf(
            shelf text NOT NULL CHECK (length(shelf) BETWEEN 1 AND 32),
            id text NOT NULL CHECK (length(id) BETWEEN 1 AND 64),
            kept_at bigint NOT NULL,
            record bytea NOT NULL CHECK (length(record) <= 268435456),
            PRIMARY KEY (shelf, id)
        );
        CREATE INDEX IF NOT EXISTS shelf_by_time ON {s}.shelf(shelf, kept_at);
        """;

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex ValidName();
}
