using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Sios.Cli.Tests.Attacks;

/// <summary>
/// Issue 11, item 1, from outside the process: someone who can write log/log.db but has no passphrase appends rows past
/// the last checkpoint, with correct tiles (a tile is only SHA-256). Before, `sios log verify` called them "not yet
/// signed" and the next start signed them with the real keys. Now they are named, refused, and can only be discarded.
/// </summary>
public sealed class ForgedTailAttackTests : IAsyncLifetime
{
    private readonly InitialisedLog _log = new();

    private string Db => Path.Combine(_log.Data, "log", "log.db");

    public async Task InitializeAsync()
    {
        await _log.InitializeAsync();
        var lines = string.Concat(Enumerable.Range(0, 299).Select(i => $"note {i}\n"));
        var run = await SiosProcess.RunAsync(["log", "note", "--stdin", "--data", _log.Data], stdin: Encoding.UTF8.GetBytes(lines));
        Assert.True(run.ExitCode == 0, run.Stderr);
    }

    public Task DisposeAsync() => _log.DisposeAsync();

    // Two entries after the 299 notes (indices 299 and 300), with the level-0 tile extended by their leaf hashes, as a
    // careful forger would.
    private void ForgeTail()
    {
        using var connection = new SqliteConnection($"Data Source={Db};Pooling=False");
        connection.Open();
        var size = Scalar<long>(connection, "SELECT max(idx) + 1 FROM entries");
        var tile = Scalar<byte[]>(connection, $"SELECT hashes FROM tiles WHERE level = 0 AND idx = {size / 256}");
        var forged = new[]
        {
            """{"v":1,"type":"inference","id":"0190d0c0-0000-7000-8000-000000000001","time":"2026-12-01T10:00:00.000Z","actor":"key:boss","brain":"demo","api":"chat.completions","request":"AAAA","response":"BBBB","tokens":{"prompt":1,"completion":1},"finish":"stop","stream":false}""",
            """{"v":1,"type":"operator.note","id":"0190d0c0-0000-7000-8000-000000000002","time":"2026-12-01T10:00:00.001Z","actor":"operator","text":"approved"}""",
        };
        using var transaction = connection.BeginTransaction();
        foreach (var (entry, i) in forged.Select((e, i) => (Encoding.UTF8.GetBytes(e), i)))
        {
            using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO entries(idx, data) VALUES($i, $d)";
            insert.Parameters.AddWithValue("$i", size + i);
            insert.Parameters.AddWithValue("$d", entry);
            insert.ExecuteNonQuery();
            tile = [.. tile, .. SHA256.HashData([0, .. entry])];
        }

        using var update = connection.CreateCommand();
        update.CommandText = $"UPDATE tiles SET hashes = $h WHERE level = 0 AND idx = {size / 256}";
        update.Parameters.AddWithValue("$h", tile);
        update.ExecuteNonQuery();
        transaction.Commit();
    }

    private static T Scalar<T>(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (T)Convert.ChangeType(command.ExecuteScalar()!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    private long LatestCheckpointSize()
    {
        using var connection = new SqliteConnection($"Data Source={Db};Mode=ReadOnly;Pooling=False");
        connection.Open();
        return Scalar<long>(connection, "SELECT max(size) FROM checkpoints");
    }

    [Fact]
    public async Task A_forged_tail_is_named_by_verify_refused_at_start_and_only_discarded()
    {
        ForgeTail();

        var verify = await SiosProcess.RunAsync(["log", "verify", "--data", _log.Data]);
        Assert.True(verify.ExitCode == 1, verify.Stderr);
        using (var report = JsonDocument.Parse(verify.Out))
        {
            Assert.False(report.RootElement.GetProperty("tail_authenticated").GetBoolean());
            Assert.Equal(2, report.RootElement.GetProperty("unsigned_tail").GetInt64());
            Assert.Contains("indices 299 to 300", report.RootElement.GetProperty("problem").GetString(), StringComparison.Ordinal);
        }

        // An auditor without the passphrase learns the tail exists and is unchecked, not that it is fine to sign.
        var blind = await SiosProcess.RunAsync(["log", "verify", "--data", _log.Data], passphrase: null);
        Assert.Contains("set SIOS_KEY_PASSPHRASE to check", blind.Stderr, StringComparison.Ordinal);

        foreach (var args in new[] { new[] { "log", "note", "sign it" }, ["serve", "--urls", "http://127.0.0.1:0"] })
        {
            var refused = await SiosProcess.RunAsync([.. args, "--data", _log.Data]);
            Assert.True(refused.ExitCode == 5, $"{string.Join(' ', args)}: exit {refused.ExitCode}: {refused.Stderr}");
            Assert.Contains("sios log discard-tail", refused.Stderr, StringComparison.Ordinal);
            Assert.Equal(299, LatestCheckpointSize());
        }

        var discard = await SiosProcess.RunAsync(["log", "discard-tail", "--data", _log.Data]);
        Assert.True(discard.ExitCode == 0, discard.Stderr);
        Assert.Equal("299", discard.Out.Trim());
        var kept = Path.Combine(_log.Data, "log", "discarded", "299-300.entries");
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(kept));
        }

        var entry = await SiosProcess.RunAsync(["log", "entry", "299", "--data", _log.Data]);
        using (var sealedEntry = JsonDocument.Parse(entry.Out))
        {
            Assert.Equal("log.tail.discarded", sealedEntry.RootElement.GetProperty("type").GetString());
            Assert.Equal(2, sealedEntry.RootElement.GetProperty("count").GetInt64());
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(kept))), sealedEntry.RootElement.GetProperty("sha256").GetString());
        }

        var clean = await SiosProcess.RunAsync(["log", "verify", "--data", _log.Data]);
        Assert.True(clean.ExitCode == 0, clean.Stderr);
    }

    [Fact]
    public async Task Discarding_refuses_nothing_when_there_is_no_tail()
    {
        var run = await SiosProcess.RunAsync(["log", "discard-tail", "--data", _log.Data]);
        Assert.Equal(0, run.ExitCode);
        Assert.Equal("", run.Out);
        Assert.Contains("nothing to discard", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_removed_guard_file_is_reported_by_verify_and_sealed_at_the_next_open()
    {
        var guard = Path.Combine(_log.Data, "log", "published.checkpoint");
        File.Delete(guard);

        var verify = await SiosProcess.RunAsync(["log", "verify", "--data", _log.Data], passphrase: null);
        Assert.True(verify.ExitCode == 1, verify.Stderr);
        Assert.Contains("published.checkpoint is missing", verify.Out, StringComparison.Ordinal);

        var note = await SiosProcess.RunAsync(["log", "note", "after", "--data", _log.Data]);
        Assert.True(note.ExitCode == 0, note.Stderr);
        var entry = await SiosProcess.RunAsync(["log", "entry", "299", "--data", _log.Data]);
        Assert.Contains("\"type\":\"log.guard.missing\"", entry.Out, StringComparison.Ordinal);
        Assert.True(File.Exists(guard));
        Assert.Equal(0, (await SiosProcess.RunAsync(["log", "verify", "--data", _log.Data])).ExitCode);
    }
}
