using System.Text;
using System.Text.Json;
using Npgsql;

namespace Sios.Cli.Tests;

// The API keys of a log on PostgreSQL live in its database, not in a folder: made on one node they work on every node,
// revoked on one they are revoked on all; and a database user without the passphrase can neither add a key nor undo a
// revocation by editing the row.
public sealed partial class PostgresStoreCliTests
{
    [SkippableFact]
    public async Task Keys_made_on_one_node_work_on_another_and_a_revocation_on_either_holds_on_both_whatever_the_database_says()
    {
        Skip.If(postgres.Unavailable is not null, postgres.Unavailable);
        var url = Url(_schema);
        var a = Path.Combine(_root, "node-a");
        var b = Path.Combine(_root, "node-b");
        await SucceedAsync(["init", "--origin", "pg.sios.local/state", "--store", url, "--data", a]);
        // The operator copies the folder (its encrypted key files) to the second node; the keys' record is not in it.
        CopyFolder(a, b);

        var secret = (await SucceedAsync(["key", "create", "shared-app", "--brains", "*", "--data", a])).Out.Trim();
        Assert.False(File.Exists(Path.Combine(a, "keys", "api-keys.json")), "the API keys went to a file, not the store");
        var listed = await SucceedAsync(["key", "list", "--json", "--data", b]);
        var key = Single(listed.Stdout, "shared-app");
        Assert.Equal(JsonValueKind.Null, key.GetProperty("revoked").ValueKind);
        Assert.DoesNotContain(secret, listed.Out, StringComparison.Ordinal);
        var beforeRevocation = (byte[])(await postgres.ScalarAsync($"SELECT body FROM {_schema}.state WHERE name = 'api-keys';"))!;

        await SucceedAsync(["key", "revoke", "shared-app", "--data", b]);
        Assert.NotEqual(JsonValueKind.Null, Single((await SucceedAsync(["key", "list", "--json", "--data", a])).Stdout, "shared-app").GetProperty("revoked").ValueKind);

        // A database user puts the row back as it was before the revocation: its MAC is genuine, but the log sealed
        // the revocation after it was written, so the key stays revoked, and sios says why.
        await WriteRowAsync(beforeRevocation);
        var check = await SiosProcess.RunAsync(["state", "check", "--data", a]);
        Assert.True(check.ExitCode == 0, check.Stderr);
        Assert.Contains("treated as revoked", check.Stderr, StringComparison.Ordinal);
        Assert.NotEqual(JsonValueKind.Null, Single((await SucceedAsync(["key", "list", "--json", "--data", b])).Stdout, "shared-app").GetProperty("revoked").ValueKind);

        // A key added to the row by hand fails the MAC: nothing in the row is trusted, on any node.
        var forged = Encoding.UTF8.GetString(beforeRevocation).Replace("\"shared-app\"", "\"forged-app\"", StringComparison.Ordinal);
        await WriteRowAsync(Encoding.UTF8.GetBytes(forged));
        foreach (var node in new[] { a, b })
        {
            var refused = await SiosProcess.RunAsync(["state", "check", "--data", node]);
            Assert.True(refused.ExitCode == 5, $"{refused.ExitCode}: {refused.Stderr}");
            Assert.Contains("does not carry a valid MAC", refused.Stderr, StringComparison.Ordinal);
            Assert.Contains($"schema {_schema}, state 'api-keys'", refused.Stderr, StringComparison.Ordinal);
        }
    }

    private static JsonElement Single(byte[] json, string name) =>
        JsonDocument.Parse(json).RootElement.EnumerateArray().Single(k => k.GetProperty("name").GetString() == name).Clone();

    private async Task WriteRowAsync(byte[] body)
    {
        await using var connection = new NpgsqlConnection(postgres.ConnectionString);
        await connection.OpenAsync();
        await using var update = new NpgsqlCommand($"UPDATE {_schema}.state SET body = @b, version = version + 1 WHERE name = 'api-keys';", connection);
        update.Parameters.AddWithValue("b", body);
        Assert.Equal(1, await update.ExecuteNonQueryAsync());
    }

    private static async Task<SiosRun> SucceedAsync(string[] args)
    {
        var run = await SiosProcess.RunAsync(args);
        Assert.True(run.ExitCode == 0, $"{string.Join(' ', args)}: exit {run.ExitCode}: {run.Stderr}");
        return run;
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
