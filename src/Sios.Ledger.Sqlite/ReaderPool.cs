using Microsoft.Data.Sqlite;

namespace Sios.Ledger.Sqlite;

/// <summary>
/// Read-only connections, one per concurrent read: a SQLite connection is not thread-safe, and in WAL mode each one
/// reads its own consistent snapshot without blocking the writer.
/// </summary>
internal sealed class ReaderPool : IDisposable
{
    // Enough for the readers of a busy server; more concurrent reads open extra connections that close after use.
    private const int MaxIdle = 16;

    private readonly string _databasePath;
    private readonly Stack<SqliteConnection> _idle = new();
    private readonly Lock _gate = new();
    private bool _disposed;

    /// <summary>Creates an empty pool for the database at <paramref name="databasePath"/>.</summary>
    public ReaderPool(string databasePath) => _databasePath = databasePath;

    /// <summary>Takes an idle connection or opens a new one; dispose the lease to give it back.</summary>
    public Lease Rent()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_idle.TryPop(out var idle))
            {
                return new Lease(this, idle);
            }
        }

        return new Lease(this, SqliteSchema.OpenReader(_databasePath));
    }

    /// <summary>Closes every idle connection; connections still leased close when returned.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            while (_idle.TryPop(out var connection))
            {
                connection.Dispose();
            }
        }
    }

    private void Return(SqliteConnection connection, bool healthy)
    {
        lock (_gate)
        {
            if (healthy && !_disposed && _idle.Count < MaxIdle)
            {
                _idle.Push(connection);
                return;
            }
        }

        connection.Dispose();
    }

    /// <summary>A connection on loan from the pool.</summary>
    public sealed class Lease : IDisposable
    {
        private readonly ReaderPool _pool;
        private bool _returned;

        internal Lease(ReaderPool pool, SqliteConnection connection)
        {
            _pool = pool;
            Connection = connection;
        }

        /// <summary>The leased read-only connection.</summary>
        public SqliteConnection Connection { get; }

        /// <summary>Marks the connection as suspect (a read failed on it) so it is closed rather than reused.</summary>
        public bool Faulted { get; set; }

        /// <summary>Gives the connection back to the pool.</summary>
        public void Dispose()
        {
            if (_returned)
            {
                return;
            }

            _returned = true;
            _pool.Return(Connection, !Faulted);
        }
    }
}
