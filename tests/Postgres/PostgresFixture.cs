using Npgsql;

namespace Sios.Tests.Postgres;

/// <summary>
/// The PostgreSQL server a test collection shares: the one <c>SIOS_TEST_POSTGRES</c> names (a connection string), or
/// else a throwaway <see cref="PostgresCluster"/> started for the collection and stopped after it. Each test takes a
/// schema of its own, so tests never see each other's logs.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private readonly string? _given = Environment.GetEnvironmentVariable("SIOS_TEST_POSTGRES") is { Length: > 0 } s ? s : null;
    private PostgresCluster? _cluster;

    /// <summary>Why the tests that need PostgreSQL skip, or null when a server is up.</summary>
    public string? Unavailable { get; private set; }

    /// <summary>The connection string of the server.</summary>
    public string ConnectionString => _given ?? _cluster?.ConnectionString ?? throw new InvalidOperationException(Unavailable);

    /// <summary>The throwaway cluster, or null when the server was given.</summary>
    public PostgresCluster? Cluster => _cluster;

    /// <summary>A fresh schema name, unique to this run.</summary>
    public static string NewSchema() => "t_" + Guid.NewGuid().ToString("N")[..20];

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        if (_given is not null)
        {
            return;
        }

        Unavailable = PostgresCluster.Unavailable;
        if (Unavailable is null)
        {
            // Installed but failing to start is a real failure, not a reason to skip.
            _cluster = await PostgresCluster.StartAsync();
        }
    }

    /// <summary>Drops <paramref name="schema"/> and everything in it.</summary>
    public async Task DropSchemaAsync(string schema)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {schema} CASCADE;", connection);
        await drop.ExecuteNonQueryAsync();
    }

    /// <summary>Runs one statement as the superuser and returns its scalar result.</summary>
    public async Task<object?> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}

/// <summary>The tests that share one PostgreSQL server.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresTests : ICollectionFixture<PostgresFixture>
{
    /// <summary>The collection's name.</summary>
    public const string Name = "postgres";
}
