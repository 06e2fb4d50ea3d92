using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using NpgsqlTypes;
using Sios.Ledger.Checkpoints;
using Sios.Ledger.Pipeline;
using Sios.Ledger.Postgres;
using Sios.Signing;
using Sios.Tests.Postgres;
using Sios.Verify.Crypto;
using Sios.Verify.Entries;

// Usage: dotnet run -c Release --project bench/Sios.Bench.Shared [-- --quick] [--seconds N] [--appenders-per-node N]
// Nodes are in-process writers, each with its own store and PostgreSQL sessions (what separate hosts would have);
// the server is a throwaway cluster on this machine (fsync on), or the one SIOS_BENCH_POSTGRES names. 1,024 appenders
// per node by default, so a node's batches can reach the baseline's 1,000 rows (closed-loop appenders bound a batch).
var quick = args.Contains("--quick");
var seconds = Option("--seconds", quick ? 2 : 10);
var perNode = Option("--appenders-per-node", 1024);
var entry = new OperatorNoteEntry(new string('x', 160)).Write();
var tailKey = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
var seed65 = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
var seed44 = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
var given = Environment.GetEnvironmentVariable("SIOS_BENCH_POSTGRES");
if (given is null && PostgresCluster.Unavailable is { } why)
{
    Console.Error.WriteLine($"sios-bench-shared: skipped: {why}");
    Console.WriteLine(new JsonObject { ["benchmark"] = "sios-shared-log", ["skipped"] = why }.ToJsonString());
    return 0;
}

await using var cluster = given is null ? await PostgresCluster.StartAsync() : null;
var connectionString = given ?? cluster!.ConnectionString;
var report = new JsonObject
{
    ["benchmark"] = "sios-shared-log",
    ["machine"] = new JsonObject { ["cores"] = Environment.ProcessorCount, ["os"] = Environment.OSVersion.ToString(), ["dotnet"] = Environment.Version.ToString() },
    ["server"] = given is null ? "throwaway cluster on this machine (fsync on, synchronous_commit on)" : "SIOS_BENCH_POSTGRES",
    ["entry_bytes"] = entry.Length,
    ["seconds_per_run"] = seconds,
    ["appenders_per_node"] = perNode,
};

var runs = new JsonArray();
foreach (var nodes in new[] { 1, 2, 3 })
{
    Console.Error.WriteLine($"sealed appends, {nodes} node(s) x {perNode} appenders, {seconds}s ...");
    runs.Add(await SealedAsync(nodes));
}

report["sealed_appends"] = runs;
Console.Error.WriteLine("baseline: bare batched INSERTs of the same bytes into the same server ...");
var baseline = await BareInsertsAsync();
report["baseline_bare_batched_insert"] = baseline;
var bare = baseline["rows_per_second"]!.GetValue<double>();
report["ratio_sealed_to_bare_by_nodes"] = new JsonArray([.. runs.Select(r => (JsonNode)Math.Round(r!["appends_per_second"]!.GetValue<double>() / bare, 3))]);
Console.WriteLine(report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
return 0;

int Option(string name, int fallback)
{
    var at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], System.Globalization.CultureInfo.InvariantCulture) : fallback;
}

LogSigner Signer() => new("bench.sios.local/shared", MlDsaPrivateKey.FromSeed(MlDsaAlgorithm.MlDsa65, seed65), MlDsaPrivateKey.FromSeed(MlDsaAlgorithm.MlDsa44, seed44));

async Task<JsonObject> SealedAsync(int nodes)
{
    var schema = $"bench_{nodes}_{Environment.ProcessId}";
    var logs = new List<TransparencyLog>();
    for (var n = 0; n < nodes; n++)
    {
        logs.Add(await TransparencyLog.OpenAsync(PostgresLogStore.Open(connectionString, schema), Signer(), new TransparencyLogOptions { TailKey = tailKey }));
    }

    var sizeBefore = logs[0].Latest.Size;
    var latencies = new List<double>[nodes * perNode];
    var stop = Stopwatch.StartNew();
    var deadline = TimeSpan.FromSeconds(seconds);
    await Task.WhenAll(Enumerable.Range(0, nodes * perNode).Select(a => Task.Run(async () =>
    {
        var mine = latencies[a] = new List<double>(1 << 14);
        var log = logs[a % nodes];
        while (stop.Elapsed < deadline)
        {
            // Receipt-ready: the append returns once its entry is durable under a durable signed checkpoint, from which
            // its receipt is built without waiting for anything else.
            var t0 = Stopwatch.GetTimestamp();
            await log.AppendAsync(entry);
            mine.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
    })));
    var elapsed = stop.Elapsed.TotalSeconds;
    var all = latencies.SelectMany(l => l).Order().ToArray();
    var checkpoints = 0;
    await foreach (var _ in logs[0].Reader.ReadCheckpointsAsync(sizeBefore + 1))
    {
        checkpoints++;
    }

    foreach (var log in logs)
    {
        await log.DisposeAsync();
    }

    await DropAsync(schema);
    return new JsonObject
    {
        ["nodes"] = nodes,
        ["appenders"] = nodes * perNode,
        ["appends"] = all.Length,
        ["appends_per_second"] = Math.Round(all.Length / elapsed, 1),
        ["receipt_ready_ms_p50"] = Math.Round(Percentile(all, 0.50), 3),
        ["receipt_ready_ms_p99"] = Math.Round(Percentile(all, 0.99), 3),
        ["checkpoints_signed"] = checkpoints,
        ["mean_entries_per_checkpoint"] = checkpoints == 0 ? 0 : Math.Round((double)all.Length / checkpoints, 1),
    };
}

async Task<JsonObject> BareInsertsAsync()
{
    // The floor: the same bytes into the same server, same durability, 1,000 rows per transaction, one round trip each.
    var schema = $"bench_bare_{Environment.ProcessId}";
    await using var connection = new NpgsqlConnection(connectionString);
    await connection.OpenAsync();
    await using (var create = new NpgsqlCommand($"CREATE SCHEMA {schema}; CREATE TABLE {schema}.entries(idx bigint PRIMARY KEY, data bytea NOT NULL);", connection))
    {
        await create.ExecuteNonQueryAsync();
    }

    const int batch = 1_000;
    long rows = 0;
    var data = Enumerable.Repeat(entry, batch).ToArray();
    var stop = Stopwatch.StartNew();
    while (stop.Elapsed < TimeSpan.FromSeconds(seconds))
    {
        await using var insert = new NpgsqlCommand($"INSERT INTO {schema}.entries(idx, data) SELECT * FROM unnest(@i, @d);", connection);
        insert.Parameters.Add(new NpgsqlParameter<long[]>("i", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { TypedValue = [.. Enumerable.Range(0, batch).Select(n => rows + n)] });
        insert.Parameters.Add(new NpgsqlParameter<byte[][]>("d", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { TypedValue = data });
        await insert.ExecuteNonQueryAsync();
        rows += batch;
    }

    var rate = Math.Round(rows / stop.Elapsed.TotalSeconds, 1);
    await DropAsync(schema);
    return new JsonObject { ["rows"] = rows, ["batch_rows"] = batch, ["rows_per_second"] = rate };
}

async Task DropAsync(string schema)
{
    await using var connection = new NpgsqlConnection(connectionString);
    await connection.OpenAsync();
    await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {schema} CASCADE;", connection);
    await drop.ExecuteNonQueryAsync();
}

static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
