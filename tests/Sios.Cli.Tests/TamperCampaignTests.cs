using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Sios.Verify.Tiles;
using Xunit.Abstractions;

namespace Sios.Cli.Tests;

/// <summary>A 100,000-entry log built once through the real CLI; every tamper case works on a copy of its data folder.</summary>
public sealed class HundredThousandEntryLog : IAsyncLifetime
{
    public const long Size = 100_000;

    private readonly InitialisedLog _log = new();

    public string Data => _log.Data;

    public string Root => _log.Root;

    public string[] Vkeys => _log.Vkeys;

    public async Task InitializeAsync()
    {
        await _log.InitializeAsync();
        var lines = new StringBuilder();
        for (var i = 0; i < Size; i++)
        {
            lines.Append("tamper campaign note ").Append(i).Append('\n');
        }

        var run = await SiosProcess.RunAsync(["log", "note", "--stdin", "--data", Data], stdin: Encoding.UTF8.GetBytes(lines.ToString()));
        Assert.True(run.ExitCode == 0, run.Stderr);

        // Fold the WAL into the main file, so copying log.db alone copies the whole log.
        using var connection = new SqliteConnection($"Data Source={Path.Combine(Data, "log", "log.db")};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);";
        command.ExecuteNonQuery();
    }

    public Task DisposeAsync() => _log.DisposeAsync();
}

/// <summary>
/// Issue 6, item 3: random damage to a 100,000-entry log (a flipped byte in an entry, tile or checkpoint row, a deleted
/// entry, tile or checkpoint, two swapped entries, tiles or checkpoints). `sios log verify` must detect every case and name the first bad index
/// or tile; `sios verify log` on an export of the damaged store must detect every case that reaches the export.
/// SIOS_TAMPER_CASES sets the number of cases (default 10), SIOS_TAMPER_SEED replays a run.
/// </summary>
public sealed class TamperCampaignTests(HundredThousandEntryLog log, ITestOutputHelper output) : IClassFixture<HundredThousandEntryLog>
{
    private const int DefaultCases = 10;

    private static readonly string[] Kinds = ["entry-flip", "tile-flip", "checkpoint-flip", "entry-delete", "tile-delete", "checkpoint-delete", "entry-swap", "tile-swap", "checkpoint-swap"];

    /// <summary>One damage and what an audit must say about it. Published is false when the export cannot carry it.</summary>
    private sealed record Damage(string Description, long? BadIndex, string? BadTile, bool Published);

    [Fact]
    public async Task Every_random_change_to_the_stored_log_is_detected_and_named()
    {
        var cases = int.TryParse(Environment.GetEnvironmentVariable("SIOS_TAMPER_CASES"), CultureInfo.InvariantCulture, out var n) && n > 0 ? n : DefaultCases;
        var seed = int.TryParse(Environment.GetEnvironmentVariable("SIOS_TAMPER_SEED"), CultureInfo.InvariantCulture, out var s) ? s : Random.Shared.Next();
        var checkpointSizes = Longs(Path.Combine(log.Data, "log", "log.db"), "SELECT size FROM checkpoints ORDER BY size");
        var detected = 0;
        var independentTried = 0;
        var independentDetected = 0;
        var failures = new List<string>();
        await Parallel.ForAsync(0, cases, new ParallelOptions { MaxDegreeOfParallelism = 2 }, async (i, _) =>
        {
            // Not HashCode.Combine: its seed differs per process, and SIOS_TAMPER_SEED must replay a run.
            var random = new Random(unchecked((seed * 31) + i));
            var folder = Path.Combine(log.Root, $"case-{i}");
            CopyData(log.Data, Path.Combine(folder, "data"));
            var db = Path.Combine(folder, "data", "log", "log.db");
            var damage = Apply(db, Kinds[i % Kinds.Length], random, checkpointSizes);
            var label = $"case {i} (seed {seed}): {damage.Description}";
            var (found, problem) = await LogVerifyAsync(Path.Combine(folder, "data"), damage);
            var (tried, foundIndependently, problemIndependently) = await IndependentAsync(folder, damage);
            lock (failures)
            {
                detected += found ? 1 : 0;
                independentTried += tried ? 1 : 0;
                independentDetected += foundIndependently ? 1 : 0;
                output.WriteLine($"{label}: log verify {(found ? "detected" : "MISSED")}; verify log {(tried ? foundIndependently ? "detected" : "MISSED" : "not published")}");
                if (!found)
                {
                    failures.Add($"{label}: sios log verify: {problem}");
                }

                if (tried ? !foundIndependently : problemIndependently.Length > 0)
                {
                    failures.Add($"{label}: sios verify log: {problemIndependently}");
                }
            }

            Directory.Delete(folder, recursive: true);
        });

        output.WriteLine($"sios log verify detected {detected}/{cases}; sios verify log detected {independentDetected}/{independentTried} published changes (seed {seed})");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(cases, detected);
        Assert.Equal(independentTried, independentDetected);
    }

    private static Damage Apply(string db, string kind, Random random, List<long> checkpointSizes)
    {
        const long Size = HundredThousandEntryLog.Size;
        var latest = checkpointSizes[^1];
        using var connection = new SqliteConnection($"Data Source={db};Pooling=False");
        connection.Open();
        switch (kind)
        {
            case "entry-flip":
            {
                var index = random.NextInt64(Size);
                var offset = FlipBlob(connection, "entries", "data", $"idx = {index}", random);
                return new Damage($"byte {offset} of entry {index} flipped", index, null, true);
            }

            case "tile-flip":
            {
                var (level, index, width) = RandomTile(random);
                var offset = FlipBlob(connection, "tiles", "hashes", $"level = {level} AND idx = {index}", random);
                return new Damage($"byte {offset} of tile ({level}, {index}) flipped", null, TilePath.Tile(level, index, width), true);
            }

            case "checkpoint-flip":
            {
                // Half the flips hit the latest checkpoint, the only one an export publishes.
                var size = random.Next(2) == 0 ? latest : checkpointSizes[random.Next(checkpointSizes.Count)];
                var offset = FlipBlob(connection, "checkpoints", "note", $"size = {size}", random);
                return new Damage($"byte {offset} of the checkpoint at size {size} flipped", null, $"checkpoint {size}", size == latest);
            }

            case "entry-delete":
            {
                var index = random.NextInt64(Size);
                Execute(connection, $"DELETE FROM entries WHERE idx = {index}");
                return new Damage($"entry {index} deleted", index, null, true);
            }

            case "tile-delete":
            {
                var (level, index, width) = RandomTile(random);
                Execute(connection, $"DELETE FROM tiles WHERE level = {level} AND idx = {index}");
                return new Damage($"tile ({level}, {index}) deleted", null, TilePath.Tile(level, index, width), true);
            }

            case "entry-swap":
            {
                var a = random.NextInt64(Size);
                var b = random.NextInt64(Size - 1);
                b += b >= a ? 1 : 0;
                SwapBlobs(connection, "entries", "data", $"idx = {a}", $"idx = {b}");
                return new Damage($"entries {a} and {b} swapped", Math.Min(a, b), null, true);
            }

            case "checkpoint-delete":
            {
                // A third of the deletions take the newest row, which only log/published.checkpoint remembers; an
                // older row is missed by the next row's link. Either way the export is a valid, shorter history.
                var size = random.Next(3) == 0 ? latest : checkpointSizes[random.Next(checkpointSizes.Count - 1)];
                Execute(connection, $"DELETE FROM checkpoints WHERE size = {size}");
                return new Damage($"the checkpoint at size {size} deleted", null, $"checkpoint {size}", false);
            }

            case "checkpoint-swap":
            {
                // Two older rows: their notes trade places, so each row's size disagrees with its signed note.
                var a = random.Next(checkpointSizes.Count - 1);
                var b = random.Next(checkpointSizes.Count - 2);
                b += b >= a ? 1 : 0;
                var (first, second) = (checkpointSizes[Math.Min(a, b)], checkpointSizes[Math.Max(a, b)]);
                SwapBlobs(connection, "checkpoints", "note", $"size = {first}", $"size = {second}");
                return new Damage($"the notes of the checkpoints at sizes {first} and {second} swapped", null, $"checkpoint {first}", false);
            }

            default:
            {
                // Two full level-0 tiles have the same length, so the swap passes the schema's checks.
                var full = (int)(Size / TilePath.FullWidth);
                var a = random.Next(full);
                var b = random.Next(full - 1);
                b += b >= a ? 1 : 0;
                SwapBlobs(connection, "tiles", "hashes", $"level = 0 AND idx = {a}", $"level = 0 AND idx = {b}");
                return new Damage($"tiles (0, {a}) and (0, {b}) swapped", null, TilePath.Tile(0, Math.Min(a, b), TilePath.FullWidth), true);
            }
        }
    }

    /// <summary>A tile of the size-100,000 tree, chosen so each level is picked often: (level, index, width).</summary>
    private static (int Level, long Index, int Width) RandomTile(Random random)
    {
        const long Size = HundredThousandEntryLog.Size;
        var level = random.Next(3);
        var tiles = TilePath.FullTileCount(level, Size) + (TilePath.PartialWidth(level, Size) > 0 ? 1 : 0);
        var index = random.NextInt64(tiles);
        var width = index < TilePath.FullTileCount(level, Size) ? TilePath.FullWidth : TilePath.PartialWidth(level, Size);
        return (level, index, width);
    }

    private static async Task<(bool Found, string Problem)> LogVerifyAsync(string data, Damage damage)
    {
        var run = await SiosProcess.RunAsync(["log", "verify", "--data", data], passphrase: null);
        if (run.ExitCode != 1 || !run.Stderr.Contains("NOT INTACT", StringComparison.Ordinal))
        {
            return (false, $"exit {run.ExitCode}: {run.Stderr.Trim()}");
        }

        return Names(run.Out, damage, independent: false);
    }

    /// <summary>Exports the damaged store and audits the export from its tiles; an export that refuses clearly also counts.</summary>
    private async Task<(bool Tried, bool Found, string Problem)> IndependentAsync(string folder, Damage damage)
    {
        var export = Path.Combine(folder, "export");
        var exported = await SiosProcess.RunAsync(["log", "export", export, "--data", Path.Combine(folder, "data")], passphrase: null);
        if (exported.ExitCode != 0)
        {
            var clear = exported.Stderr.StartsWith("sios: ", StringComparison.Ordinal)
                && !exported.Stderr.Contains("internal error", StringComparison.Ordinal)
                && !exported.Stderr.Contains("   at ", StringComparison.Ordinal);
            return (true, clear, $"export failed without a clear message: exit {exported.ExitCode}: {exported.Stderr.Trim()}");
        }

        var run = await SiosProcess.RunAsync(["verify", "log", export, .. log.Vkeys.SelectMany(v => new[] { "--vkey", v })], passphrase: null);
        if (!damage.Published)
        {
            // Only the latest checkpoint is published: damage elsewhere must leave the export intact, not break it.
            return (false, false, run.ExitCode == 0 ? "" : $"an unpublished change broke the export: {run.Stderr.Trim()}");
        }

        if (run.ExitCode != 1 || !run.Stderr.Contains("NOT INTACT", StringComparison.Ordinal))
        {
            return (true, false, $"exit {run.ExitCode}: {run.Stderr.Trim()}");
        }

        var (found, problem) = Names(run.Out, damage, independent: true);
        return (true, found, problem);
    }

    /// <summary>Checks the JSON report names the damage: the index of a changed entry, the path of a changed tile.</summary>
    private static (bool Found, string Problem) Names(string json, Damage damage, bool independent)
    {
        using var doc = JsonDocument.Parse(json);
        var report = doc.RootElement;
        if (report.GetProperty("intact").GetBoolean())
        {
            return (false, $"report says intact: {json}");
        }

        long? badIndex = report.TryGetProperty("bad_index", out var i) ? i.GetInt64() : null;
        string? badTile = report.TryGetProperty("bad_tile", out var t) ? t.GetString() : null;
        var wantedTile = independent && damage.BadTile is { } tile && tile.StartsWith("checkpoint", StringComparison.Ordinal) ? "checkpoint" : damage.BadTile;
        if (damage.BadIndex is { } index && badIndex != index)
        {
            return (false, $"named index {badIndex?.ToString(CultureInfo.InvariantCulture) ?? "none"}, not {index}: {json}");
        }

        if (wantedTile is not null && badTile != wantedTile)
        {
            return (false, $"named tile {badTile ?? "none"}, not {wantedTile}: {json}");
        }

        return (true, "");
    }

    private static int FlipBlob(SqliteConnection connection, string table, string column, string where, Random random)
    {
        var blob = Blob(connection, $"SELECT {column} FROM {table} WHERE {where}");
        var offset = random.Next(blob.Length);
        blob[offset] ^= (byte)random.Next(1, 256);
        Update(connection, table, column, where, blob);
        return offset;
    }

    private static void SwapBlobs(SqliteConnection connection, string table, string column, string whereA, string whereB)
    {
        var a = Blob(connection, $"SELECT {column} FROM {table} WHERE {whereA}");
        var b = Blob(connection, $"SELECT {column} FROM {table} WHERE {whereB}");
        Assert.False(a.AsSpan().SequenceEqual(b), $"{whereA} and {whereB} hold the same bytes; swapping them changes nothing");
        Update(connection, table, column, whereA, b);
        Update(connection, table, column, whereB, a);
    }

    private static byte[] Blob(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Assert.IsType<byte[]>(command.ExecuteScalar());
    }

    private static void Update(SqliteConnection connection, string table, string column, string where, byte[] value)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"UPDATE {table} SET {column} = $v WHERE {where}";
        command.Parameters.AddWithValue("$v", value);
        Assert.Equal(1, command.ExecuteNonQuery());
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        Assert.Equal(1, command.ExecuteNonQuery());
    }

    private static List<long> Longs(string db, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={db};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var values = new List<long>();
        while (reader.Read())
        {
            values.Add(reader.GetInt64(0));
        }

        return values;
    }

    /// <summary>Copies a data folder (keys, settings, the checkpointed log.db) without the WAL, lock or shared-memory files.</summary>
    private static void CopyData(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var name = Path.GetFileName(file);
            if (name.EndsWith("-wal", StringComparison.Ordinal) || name.EndsWith("-shm", StringComparison.Ordinal) || name.EndsWith(".lock", StringComparison.Ordinal))
            {
                continue;
            }

            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
