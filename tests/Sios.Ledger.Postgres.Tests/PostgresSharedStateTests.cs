using Npgsql;
using Sios.Ledger.State;
using Sios.Ledger.Tests.State;
using Sios.Tests.Postgres;

namespace Sios.Ledger.Postgres.Tests;

/// <summary>The PostgreSQL rows pass the state document conformance suite; each test has a schema of its own.</summary>
[Collection(PostgresTests.Name)]
public sealed class PostgresStateDocumentConformanceTests(PostgresFixture postgres) : StateDocumentConformanceTests
{
    private readonly string _schema = PostgresFixture.NewSchema();
    private PostgresSharedState? _state;

    protected override IStateDocument Open(string name)
    {
        Skip.If(postgres.Unavailable is not null, postgres.Unavailable);
        // One pool per node, as a node has; the handles still contend as two nodes' would, through the rows' locks.
        _state ??= PostgresSharedState.Open(postgres.ConnectionString, _schema);
        return _state.Document(name);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && postgres.Unavailable is null)
        {
            _state?.Dispose();
            postgres.DropSchemaAsync(_schema).GetAwaiter().GetResult();
        }

        base.Dispose(disposing);
    }
}

/// <summary>What only the PostgreSQL state rows do: share one schema with the log, and fail closed when the database does.</summary>
[Collection(PostgresTests.Name)]
public sealed class PostgresSharedStateTests(PostgresFixture postgres) : IAsyncLifetime
{
    private readonly string _schema = PostgresFixture.NewSchema();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (postgres.Unavailable is null)
        {
            await postgres.DropSchemaAsync(_schema);
        }
    }

    [SkippableFact]
    public async Task Two_nodes_share_a_document_and_see_each_others_changes_at_once()
    {
        Skip.If(postgres.Unavailable is not null, postgres.Unavailable);
        using var first = PostgresSharedState.Open(postgres.ConnectionString, _schema);
        using var second = PostgresSharedState.Open(postgres.ConnectionString, _schema);
        var seen = second.Document("api-keys").Read();

        await first.Document("api-keys").ChangeAsync((_, _) => Task.FromResult(new StateChange<bool>([1, 2, 3], true)));

        // No settling and no polling interval: a row's version is exact, so the very next read notices.
        Assert.False(second.Document("api-keys").IsCurrent(seen.Stamp));
        Assert.Equal([1, 2, 3], second.Document("api-keys").Read().Bytes);
    }

    [SkippableFact]
    public async Task The_state_lives_beside_the_log_in_its_schema()
    {
        Skip.If(postgres.Unavailable is not null, postgres.Unavailable);
        await using var log = PostgresLogStore.Open(postgres.ConnectionString, _schema);
        using var state = PostgresSharedState.Open(postgres.ConnectionString, _schema);

        await state.Document("brains").ChangeAsync((_, _) => Task.FromResult(new StateChange<bool>([9], true)));

        Assert.Equal(1L, await postgres.ScalarAsync($"SELECT version FROM {_schema}.state WHERE name = 'brains';"));
        Assert.Equal(2, await postgres.ScalarAsync($"SELECT version FROM {_schema}.sios_meta;"));
        Assert.Throws<ArgumentException>(() => state.Document("Not A Name"));
    }

    [SkippableFact]
    public async Task A_schema_of_the_first_version_gains_the_shared_state_tables_and_keeps_its_log()
    {
        Skip.If(postgres.Unavailable is not null, postgres.Unavailable);
        await using (PostgresLogStore.Open(postgres.ConnectionString, _schema))
        {
        }

        await postgres.ScalarAsync($"DROP TABLE {_schema}.state, {_schema}.budgets, {_schema}.shelf; UPDATE {_schema}.sios_meta SET version = 1;");

        using var state = PostgresSharedState.Open(postgres.ConnectionString, _schema);
        await state.Document("api-keys").ChangeAsync((_, _) => Task.FromResult(new StateChange<bool>([4], true)));
        state.Shelf("vault").Put(Guid.NewGuid().ToString("D"), 1, [5]);

        Assert.Equal(2, await postgres.ScalarAsync($"SELECT version FROM {_schema}.sios_meta;"));
        Assert.Equal([4], state.Document("api-keys").Read().Bytes);
        Assert.Null(state.Budgets.Admit("k", 1, null));
    }

    [SkippableFact]
    public async Task A_database_that_fails_under_a_node_is_reported_as_unavailable_never_as_an_empty_document()
    {
        Skip.If(postgres.Unavailable is not null, postgres.Unavailable);
        using var state = PostgresSharedState.Open(postgres.ConnectionString, _schema);
        var document = state.Document("api-keys");
        await document.ChangeAsync((_, _) => Task.FromResult(new StateChange<bool>([1], true)));
        var seen = document.Read();

        await postgres.DropSchemaAsync(_schema);

        var read = Assert.Throws<StateUnavailableException>(() => document.Read());
        Assert.Throws<StateUnavailableException>(() => document.IsCurrent(seen.Stamp));
        await Assert.ThrowsAsync<StateUnavailableException>(() => document.ChangeAsync((_, _) => Task.FromResult(new StateChange<bool>([2], true))));
        Assert.Contains(_schema, read.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("assword", read.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void An_unreachable_database_refuses_to_open()
    {
        Skip.If(postgres.Unavailable is not null, postgres.Unavailable);
        var closed = new NpgsqlConnectionStringBuilder(postgres.ConnectionString) { Port = 1, Timeout = 2 }.ConnectionString;

        Assert.ThrowsAny<NpgsqlException>(() => PostgresSharedState.Open(closed, _schema));
    }
}

/// <summary>The budgets kept in PostgreSQL pass the rate budget conformance suite, each handle another node's pool.</summary>
[Collection(PostgresTests.Name)]
public sealed class PostgresRateBudgetsConformanceTests(PostgresFixture postgres) : Sios.Ledger.Tests.State.RateBudgetsConformanceTests, IDisposable
{
    private readonly SharedStateNodes _nodes = new(postgres);

    protected override IRateBudgets Open() => _nodes.Open().Budgets;

    public void Dispose() => _nodes.Dispose();
}

/// <summary>The shelves kept in PostgreSQL pass the record shelf conformance suite, each handle another node's pool.</summary>
[Collection(PostgresTests.Name)]
public sealed class PostgresRecordShelfConformanceTests(PostgresFixture postgres) : Sios.Ledger.Tests.State.RecordShelfConformanceTests, IDisposable
{
    private readonly SharedStateNodes _nodes = new(postgres);

    protected override IRecordShelf Open() => _nodes.Open().Shelf("vault");

    protected override byte[] MakeRecord(long keptAt) => System.Security.Cryptography.RandomNumberGenerator.GetBytes(64);

    public void Dispose() => _nodes.Dispose();
}

/// <summary>Opens the shared state of one schema as many nodes would (each its own pool), and drops it all at the end.</summary>
internal sealed class SharedStateNodes(PostgresFixture postgres) : IDisposable
{
    private readonly string _schema = PostgresFixture.NewSchema();
    private readonly List<PostgresSharedState> _nodes = [];

    public PostgresSharedState Open()
    {
        Skip.If(postgres.Unavailable is not null, postgres.Unavailable);
        var node = PostgresSharedState.Open(postgres.ConnectionString, _schema);
        lock (_nodes)
        {
            _nodes.Add(node);
        }

        return node;
    }

    public void Dispose()
    {
        foreach (var node in _nodes)
        {
            node.Dispose();
        }

        if (postgres.Unavailable is null)
        {
            postgres.DropSchemaAsync(_schema).GetAwaiter().GetResult();
        }
    }
}
