using System.Text.Json;
using Npgsql;
using Sios.Ledger.Postgres;
using Sios.Tests.Postgres;

namespace Sios.Cli.Tests;

/// <summary>
/// The log kept in PostgreSQL, driven through the real sios program: init with --store, sealing, the full audit, a receipt
/// checked offline, a second folder refused on a store that holds a log, a node named when it holds the writer, and
/// store URLs refused before anything is made (a password is never echoed).
/// </summary>
[Collection(PostgresTests.Name)]
public sealed partial class PostgresStoreCliTests(PostgresFixture postgres) : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "sios-pgcli-" + Guid.NewGuid().ToString("N"));
    private readonly string _schema = PostgresFixture.NewSchema();

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        Directory.Delete(_root, recursive: true);
        if (postgres.Unavailable is null)
        {
            await postgres.DropSchemaAsync(_schema);
        }
    }

    [SkippableFact]
    public async Task A_log_on_postgres_seals_audits_and_proves_and_a_second_folder_cannot_take_it_over()
    {
        Skip.If(postgres.Unavailable is not null, postgres.Unavailable);
        var url = Url(_schema);
        var data = Path.Combine(_root, "node-a");

        var init = await SiosProcess.RunAsync(["init", "--origin", "pg.sios.local/log", "--store", url, "--data", data]);
        Assert.True(init.ExitCode == 0, init.Stderr);
        var vkeys = init.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, vkeys.Length);
        Assert.False(File.Exists(Path.Combine(data, "log", "log.db")), "the log went to SQLite, not PostgreSQL");
        Assert.Equal(url, JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(data, "sios.json"))).RootElement.GetProperty("store").GetString());

        var note = await SiosProcess.RunAsync(["log", "note", "kept in postgres", "--data", data]);
        Assert.True(note.ExitCode == 0, note.Stderr);
        var index = note.Out.Trim();
        await using (var store = PostgresLogStore.Open(postgres.ConnectionString, _schema))
        {
            Assert.Equal(long.Parse(index, System.Globalization.CultureInfo.InvariantCulture) + 1, await store.GetStoredSizeAsync());
            Assert.Contains("kept in postgres", System.Text.Encoding.UTF8.GetString((await store.ReadEntriesAsync(long.Parse(index, System.Globalization.CultureInfo.InvariantCulture), 1))[0]), StringComparison.Ordinal);
        }

        var audit = await SiosProcess.RunAsync(["log", "verify", "--data", data]);
        Assert.True(audit.ExitCode == 0, audit.Stderr + audit.Out);
        Assert.True(JsonDocument.Parse(audit.Stdout).RootElement.GetProperty("intact").GetBoolean());

        var receipt = await SiosProcess.RunAsync(["log", "receipt", index, "--data", data], passphrase: null);
        Assert.True(receipt.ExitCode == 0, receipt.Stderr);
        var file = Path.Combine(_root, "note.tlog-proof");
        await File.WriteAllBytesAsync(file, receipt.Stdout);
        var verified = await SiosProcess.RunAsync(["verify", "receipt", file, "--vkey", vkeys[0], "--vkey", vkeys[1]], passphrase: null);
        Assert.True(verified.ExitCode == 0, verified.Stderr);
        Assert.Contains("kept in postgres", verified.Out, StringComparison.Ordinal);

        // Another folder (other keys) on the same schema would make a log that could never verify: refused up front.
        var second = await SiosProcess.RunAsync(["init", "--origin", "pg.sios.local/log", "--store", url, "--data", Path.Combine(_root, "node-b")]);
        Assert.Equal(2, second.ExitCode);
        Assert.Contains("already holds a log", second.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_root, "node-b")));

        // Another node writing the log is no obstacle: the writers take turns.
        await using (var member = PostgresLogStore.Open(postgres.ConnectionString, _schema))
        {
            await member.AcquireWriterAsync();
            var beside = await SiosProcess.RunAsync(["log", "note", "beside another node", "--data", data]);
            Assert.True(beside.ExitCode == 0, beside.Stderr);
        }

        // A sole writer (a signer rotation in progress, say) is named to the one refused.
        await using (var holder = PostgresLogStore.Open(postgres.ConnectionString, _schema))
        {
            await holder.AcquireSoleWriterAsync();
            var blocked = await SiosProcess.RunAsync(["log", "note", "blocked", "--data", data]);
            Assert.Equal(4, blocked.ExitCode);
            Assert.Contains("is held by its only writer (sios-writer", blocked.Stderr, StringComparison.Ordinal);
        }

        Assert.Equal(0, (await SiosProcess.RunAsync(["log", "note", "free again", "--data", data])).ExitCode);
    }

    [SkippableFact]
    public async Task Store_urls_are_checked_before_anything_is_made_and_a_password_is_never_echoed()
    {
        Skip.If(postgres.Unavailable is not null, postgres.Unavailable);
        var data = Path.Combine(_root, "refused");
        var port = new NpgsqlConnectionStringBuilder(postgres.ConnectionString).Port;
        foreach (var (url, expected) in new[]
        {
            ($"postgres://sios:hunter2-secret@127.0.0.1:{port}/postgres", "PGPASSWORD"),
            ($"postgres://127.0.0.1:{port}/postgres?schema=Bad-Name", "schema=Bad-Name"),
            ($"postgres://127.0.0.1:{port}/postgres?application_name=x", "'application_name' is not one SIOS reads"),
            ($"postgres://127.0.0.1:{port}/", "names no database"),
            ("mysql://127.0.0.1/db", "is not a store URL"),
        })
        {
            var run = await SiosProcess.RunAsync(["init", "--origin", "pg.sios.local/log", "--store", url, "--data", data]);
            Assert.True(run.ExitCode == 2, $"{url}: {run.ExitCode} {run.Stderr}");
            Assert.Contains(expected, run.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("hunter2", run.Stderr, StringComparison.Ordinal);
            Assert.False(Directory.Exists(data));
        }

        // Nothing listens there: the node cannot run, says which store, and leaves no folder behind.
        var closed = await SiosProcess.RunAsync(["init", "--origin", "pg.sios.local/log", "--store", "postgres://sios@127.0.0.1:1/postgres", "--data", data]);
        Assert.Equal(3, closed.ExitCode);
        Assert.Contains("the log store postgres://sios@127.0.0.1:1/postgres (schema sios) cannot be reached", closed.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(data));
    }

    private string Url(string schema)
    {
        var settings = new NpgsqlConnectionStringBuilder(postgres.ConnectionString);
        return $"postgres://{settings.Username}@{settings.Host}:{settings.Port}/{settings.Database}?schema={schema}";
    }
}
