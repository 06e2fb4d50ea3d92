using System.Globalization;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Sios.Ledger.Sqlite;

/// <summary>Connection settings and the versioned schema of a SIOS log database.</summary>
internal static class SqliteSchema
{
    /// <summary>
    /// The schema version this build writes (stored in PRAGMA user_version). Version 2 added checkpoints.previous,
    /// version 3 the tail_seal row; an older log is upgraded in place when opened.
    /// </summary>
    public const int CurrentVersion = 3;

    /// <summary>Marks the file as a SIOS log (ASCII "SIOS") so a foreign database is never mistaken for one.</summary>
    public const int ApplicationId = 0x53494F53;

    /// <summary>How long a connection waits for another one's lock before failing with SQLITE_BUSY.</summary>
    public const int BusyTimeoutMilliseconds = 10_000;

    private const string CreateStatements = """
        CREATE TABLE entries(
            idx INTEGER PRIMARY KEY CHECK (idx >= 0),
            data BLOB NOT NULL
        ) STRICT;
        CREATE TABLE tiles(
            level INTEGER NOT NULL CHECK (level >= 0),
            idx INTEGER NOT NULL CHECK (idx >= 0),
            hashes BLOB NOT NULL CHECK (length(hashes) BETWEEN 32 AND 8192 AND length(hashes) % 32 = 0),
            PRIMARY KEY(level, idx)
        ) STRICT, WITHOUT ROWID;
        CREATE TABLE checkpoints(
            size INTEGER PRIMARY KEY CHECK (size >= 0),
            note BLOB NOT NULL,
            previous INTEGER NOT NULL CHECK (previous >= -1 AND previous < size)
        ) STRICT;
        """ + TailSealTable;

    // One row at most: the authenticator of the newest batch (see Sios.Ledger.Pipeline.TailSeals).
    private const string TailSealTable = """
        CREATE TABLE tail_seal(
            one INTEGER PRIMARY KEY CHECK (one = 1),
            size INTEGER NOT NULL CHECK (size >= 0),
            tag BLOB NOT NULL CHECK (length(tag) BETWEEN 1 AND 64)
        ) STRICT;
        """;

    // Version 1 did not chain checkpoints. The links are filled from the order the rows have at upgrade time: they
    // vouch for the history from then on, not for deletions made before it.
    private const string UpgradeFrom1 = """
        ALTER TABLE checkpoints ADD COLUMN previous INTEGER NOT NULL DEFAULT -1 CHECK (previous >= -1 AND previous < size);
        UPDATE checkpoints SET previous = coalesce((SELECT max(c.size) FROM checkpoints c WHERE c.size < checkpoints.size), -1);
        """;

    /// <summary>Opens the read-write connection: WAL, synchronous=FULL (both verified) and the hardening settings.</summary>
    public static SqliteConnection OpenWriter(string databasePath)
    {
        var connection = Open(databasePath, SqliteOpenMode.ReadWriteCreate);
        try
        {
            // WAL lets readers, including other processes, run while the writer appends.
            var mode = Scalar(connection, "PRAGMA journal_mode=WAL;");
            if (!string.Equals(Convert.ToString(mode, CultureInfo.InvariantCulture), "wal", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException(
                    $"SQLite refused WAL mode for {databasePath} (journal_mode is '{mode}'); the file system may not support "
                    + "shared memory (e.g. a network share). Put the log on a local disk.");
            }

            // FULL syncs the WAL at every commit: a returned WriteBatchAsync survives power loss, as the contract demands.
            // fullfsync only matters on macOS, where plain fsync does not flush the drive's cache.
            Execute(connection, "PRAGMA synchronous=FULL; PRAGMA fullfsync=ON; PRAGMA checkpoint_fullfsync=ON;");
            var synchronous = Convert.ToInt64(Scalar(connection, "PRAGMA synchronous;"), CultureInfo.InvariantCulture);
            if (synchronous != 2)
            {
                throw new InvalidOperationException(
                    $"SQLite did not apply synchronous=FULL for {databasePath} (it reports {synchronous}); refusing to run "
                    + "without durable commits.");
            }

            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Opens a read-only connection with the hardening settings.</summary>
    public static SqliteConnection OpenReader(string databasePath) => Open(databasePath, SqliteOpenMode.ReadOnly);

    /// <summary>
    /// Creates the schema in an empty database, upgrades an older SIOS log, or checks that an existing one is a SIOS
    /// log this build can use.
    /// </summary>
    public static void EnsureSchema(SqliteConnection connection, string databasePath)
    {
        if (ExistingVersion(connection, databasePath) == CurrentVersion)
        {
            return;
        }

        // IMMEDIATE takes the write lock up front, so two processes creating or upgrading the same log cannot both do it.
        using var transaction = connection.BeginTransaction(deferred: false);
        var version = ExistingVersion(connection, databasePath);
        if (version == CurrentVersion)
        {
            return;
        }

        if (version is 1 or 2)
        {
            // A log written before tail seals has none: a tail it holds is refused until signed or discarded by hand.
            Execute(connection, version == 1 ? UpgradeFrom1 + TailSealTable : TailSealTable);
        }
        else
        {
            var objects = Convert.ToInt64(Scalar(connection, "SELECT count(*) FROM sqlite_schema;"), CultureInfo.InvariantCulture);
            if (objects != 0)
            {
                throw new InvalidDataException(
                    $"{databasePath} is a SQLite database but not a SIOS log (it has tables and no SIOS schema version); "
                    + "choose another path.");
            }

            Execute(connection, CreateStatements);
        }

        Execute(connection, $"PRAGMA application_id={ApplicationId}; PRAGMA user_version={CurrentVersion};");
        transaction.Commit();
    }

    /// <summary>Runs a statement whose first column of the first row is wanted.</summary>
    public static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    // The schema version of a SIOS log this build can use or upgrade; 0 while the database is still blank.
    private static long ExistingVersion(SqliteConnection connection, string databasePath)
    {
        var version = Convert.ToInt64(Scalar(connection, "PRAGMA user_version;"), CultureInfo.InvariantCulture);
        var application = Convert.ToInt64(Scalar(connection, "PRAGMA application_id;"), CultureInfo.InvariantCulture);
        if (version == 0 && application == 0)
        {
            return 0;
        }

        if (application != ApplicationId)
        {
            throw new InvalidDataException(
                $"{databasePath} is a SQLite database of another application (application_id {application}), not a SIOS log; "
                + "choose another path.");
        }

        if (version > CurrentVersion)
        {
            throw new NotSupportedException(
                $"{databasePath} has log schema version {version}, newer than version {CurrentVersion} that this build of SIOS "
                + "understands; run a SIOS release that supports it.");
        }

        if (version < 1)
        {
            throw new InvalidDataException(
                $"{databasePath} has log schema version {version}, which no SIOS release wrote; the file is damaged.");
        }

        return version;
    }

    private static SqliteConnection Open(string databasePath, SqliteOpenMode mode)
    {
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = mode,
            // The store keeps its own reader pool and must close every handle on disposal, so the driver's pool is off.
            Pooling = false,
        };
        var connection = new SqliteConnection(builder.ToString());
        try
        {
            connection.Open();
            Harden(connection, databasePath);
            return connection;
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode == raw.SQLITE_NOTADB)
        {
            connection.Dispose();
            throw new InvalidDataException($"{databasePath} is not a SQLite database; choose another path.", ex);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    // The log file may be copied between machines, so it is treated as untrusted input: no schema-embedded SQL functions
    // with side effects, no writes to sqlite_schema, and corrupt pages detected early instead of misread.
    private static void Harden(SqliteConnection connection, string databasePath)
    {
        Execute(
            connection,
            $"PRAGMA busy_timeout={BusyTimeoutMilliseconds}; PRAGMA trusted_schema=OFF; PRAGMA cell_size_check=ON;");
        var rc = raw.sqlite3_db_config(connection.Handle, raw.SQLITE_DBCONFIG_DEFENSIVE, 1, out var defensive);
        var trusted = Convert.ToInt64(Scalar(connection, "PRAGMA trusted_schema;"), CultureInfo.InvariantCulture);
        if (rc != raw.SQLITE_OK || defensive != 1 || trusted != 0)
        {
            throw new InvalidOperationException(
                $"SQLite did not accept the hardening settings for {databasePath} (defensive mode rc {rc}, "
                + $"trusted_schema {trusted}); the bundled SQLite library is too old or was replaced.");
        }

        // The schema query also fails here, early and clearly, when the file is not a database at all.
        Scalar(connection, "SELECT count(*) FROM sqlite_schema;");
    }
}
