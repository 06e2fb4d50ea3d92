using Sios.Ledger.Storage;
using Sios.Ledger.Tests.Storage;

namespace Sios.Ledger.Sqlite.Tests;

/// <summary>The SQLite store passes the backend conformance suite.</summary>
public sealed class SqliteLogStoreConformanceTests : LogStoreConformanceTests
{
    protected override ILogStore Open(string directory) => SqliteLogStore.Open(Path.Combine(directory, "log.db"));
}
