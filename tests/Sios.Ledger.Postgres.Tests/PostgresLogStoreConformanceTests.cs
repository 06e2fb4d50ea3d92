using System.Collections.Concurrent;
using Sios.Ledger.Storage;
using Sios.Ledger.Tests.Storage;
using Sios.Tests.Postgres;

namespace Sios.Ledger.Postgres.Tests;

/// <summary>The PostgreSQL store passes the backend conformance suite; each test's folder maps to a schema of its own.</summary>
[Collection(PostgresTests.Name)]
public sealed class PostgresLogStoreConformanceTests(PostgresFixture postgres) : LogStoreConformanceTests
{
    private readonly ConcurrentDictionary<string, string> _schemas = new(StringComparer.Ordinal);

    protected override ILogStore Open(string directory)
    {
        Skip.If(postgres.Unavailable is not null, postgres.Unavailable);
        return PostgresLogStore.Open(postgres.ConnectionString, _schemas.GetOrAdd(directory, _ => PostgresFixture.NewSchema()));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && postgres.Unavailable is null)
        {
            foreach (var schema in _schemas.Values)
            {
                postgres.DropSchemaAsync(schema).GetAwaiter().GetResult();
            }
        }

        base.Dispose(disposing);
    }
}
