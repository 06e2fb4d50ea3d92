using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Sios.Cli.Tests;

/// <summary>Damage a stored log behind SIOS's back: `sios log verify` must notice and name the damage.</summary>
public sealed class TamperTests : IAsyncLifetime
{
    private readonly InitialisedLog _log = new();

    private string Db => Path.Combine(_log.Data, "log", "log.db");

    public async Task InitializeAsync()
    {
        await _log.InitializeAsync();
        var lines = string.Concat(Enumerable.Range(0, 300).Select(i => $"note {i}\n"));
        var run = await SiosProcess.RunAsync(["log", "note", "--stdin", "--data", _log.Data], stdin: Encoding.UTF8.GetBytes(lines));
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal(300, run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    public Task DisposeAsync() => _log.DisposeAsync();

    private void Sql(string sql, params (string Name, object Value)[] parameters)
    {
        using var connection = new SqliteConnection($"Data Source={Db};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        Assert.True(command.ExecuteNonQuery() >= 1, sql);
    }

    private byte[] Blob(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={Db};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (byte[])command.ExecuteScalar()!;
    }

    private void Flip(string table, string where, int offset)
    {
        var blob = Blob($"SELECT {(table == "checkpoints" ? "note" : table == "tiles" ? "hashes" : "data")} FROM {table} WHERE {where}");
        blob[offset] ^= 0x20;
        Sql($"UPDATE {table} SET {(table == "checkpoints" ? "note" : table == "tiles" ? "hashes" : "data")} = $v WHERE {where}", ("$v", blob));
    }

    private async Task<JsonElement> VerifyFailsAsync()
    {
        var run = await SiosProcess.RunAsync(["log", "verify", "--data", _log.Data], passphrase: null);
        Assert.True(run.ExitCode == 1, $"exit {run.ExitCode}: {run.Stderr}");
        Assert.Contains("NOT INTACT", run.Stderr, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(run.Stdout);
        Assert.False(doc.RootElement.GetProperty("intact").GetBoolean());
        return doc.RootElement.Clone();
    }

    [Fact]
    public async Task An_altered_entry_is_named_by_its_index()
    {
        Flip("entries", "idx = 123", 40);
        var report = await VerifyFailsAsync();
        Assert.Equal(123, report.GetProperty("bad_index").GetInt64());
    }

    [Fact]
    public async Task An_altered_full_tile_is_named_by_its_path()
    {
        Flip("tiles", "level = 0 AND idx = 0", 5 * 32 + 3);
        var report = await VerifyFailsAsync();
        Assert.Equal("tile/0/000", report.GetProperty("bad_tile").GetString());
        Assert.False(report.TryGetProperty("bad_index", out _));
    }

    [Fact]
    public async Task An_altered_level_1_tile_is_named_by_its_path()
    {
        Flip("tiles", "level = 1 AND idx = 0", 7);
        var report = await VerifyFailsAsync();
        Assert.Equal("tile/1/000.p/1", report.GetProperty("bad_tile").GetString());
    }

    [Fact]
    public async Task An_altered_checkpoint_is_named_by_its_size()
    {
        Flip("checkpoints", "size = (SELECT MAX(size) FROM checkpoints)", 200);
        var report = await VerifyFailsAsync();
        Assert.StartsWith("checkpoint", report.GetProperty("bad_tile").GetString(), StringComparison.Ordinal);
        Assert.Contains("does not verify", report.GetProperty("problem").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_store_rolled_back_behind_its_published_checkpoint_is_refused()
    {
        // An older copy of the database put back: the newest checkpoint and the entries it alone covers are gone.
        Sql("DELETE FROM checkpoints WHERE size = (SELECT MAX(size) FROM checkpoints)");
        Sql("DELETE FROM entries WHERE idx >= (SELECT MAX(size) FROM checkpoints)");
        var report = await VerifyFailsAsync();
        Assert.Contains("rolled back", report.GetProperty("problem").GetString(), StringComparison.Ordinal);

        var append = await SiosProcess.RunAsync(["log", "note", "over a rollback", "--data", _log.Data]);
        Assert.Equal(5, append.ExitCode);
        Assert.Contains("rolled back", append.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_deleted_entry_is_named_by_its_index()
    {
        Sql("DELETE FROM entries WHERE idx = 200");
        var report = await VerifyFailsAsync();
        Assert.Equal(200, report.GetProperty("bad_index").GetInt64());
    }

    [Fact]
    public async Task Swapped_entries_are_named_by_the_first_index()
    {
        var a = Blob("SELECT data FROM entries WHERE idx = 10");
        var b = Blob("SELECT data FROM entries WHERE idx = 11");
        Sql("UPDATE entries SET data = $v WHERE idx = 10", ("$v", b));
        Sql("UPDATE entries SET data = $v WHERE idx = 11", ("$v", a));
        var report = await VerifyFailsAsync();
        Assert.Equal(10, report.GetProperty("bad_index").GetInt64());
    }

    [Fact]
    public async Task The_log_refuses_to_seal_on_a_store_that_disagrees_with_its_last_checkpoint()
    {
        Flip("tiles", "level = 0 AND idx = 1", 0);
        var run = await SiosProcess.RunAsync(["log", "note", "more", "--data", _log.Data]);
        Assert.Equal(5, run.ExitCode);
        Assert.Contains("refusing to run", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("sios log verify", run.Stderr, StringComparison.Ordinal);
    }
}
