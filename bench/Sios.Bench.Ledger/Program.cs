using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Sios.Ledger.Checkpoints;
using Sios.Ledger.Entries;
using Sios.Ledger.Pipeline;
using Sios.Ledger.Proofs;
using Sios.Ledger.Sqlite;
using Sios.Ledger.Storage;
using Sios.Signing;
using Sios.Verify.Audit;
using Sios.Verify.Checkpoints;
using Sios.Verify.Crypto;
using Sios.Verify.Receipts;
using Sios.Verify.Entries;

// Usage: dotnet run -c Release --project bench/Sios.Bench.Ledger [-- --quick] [--seconds N] [--audit-entries N] [--audit-only]
var quick = args.Contains("--quick");
var seconds = Option("--seconds", quick ? 2 : 10);
var auditEntries = Option("--audit-entries", quick ? 20_000 : 200_000);
var work = Path.Combine(Path.GetTempPath(), "sios-bench-" + Environment.ProcessId);
Directory.CreateDirectory(work);
var origin = "bench.sios.local/log";
var entry = new OperatorNoteEntry(new string('x', 160)).Write();
var report = new JsonObject
{
    ["benchmark"] = "sios-ledger",
    ["machine"] = new JsonObject { ["cores"] = Environment.ProcessorCount, ["os"] = Environment.OSVersion.ToString(), ["dotnet"] = Environment.Version.ToString() },
    ["entry_bytes"] = entry.Length,
    ["seconds_per_run"] = seconds,
};

try
{
    if (args.Contains("--audit-only"))
    {
        report["audit"] = await AuditAsync();
        Console.WriteLine(report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }

    var appends = new JsonArray();
    foreach (var concurrency in new[] { 1, 16, 256 })
    {
        Log($"sealed appends, {concurrency} concurrent appenders, {seconds}s ...");
        appends.Add(await SealedAppendsAsync(concurrency));
    }

    report["sealed_appends"] = appends;

    Log("baseline: bare batched SQLite inserts of the same bytes ...");
    var baseline = BareSqlite();
    report["baseline_bare_sqlite"] = baseline;
    var best = appends.Max(a => a!["appends_per_second"]!.GetValue<double>());
    report["ratio_closed_loop_sealed_to_bare_sqlite"] = Math.Round(best / baseline["rows_per_second"]!.GetValue<double>(), 3);

    Log($"open-loop fill and audit of a {auditEntries}-entry log ...");
    var audit = await AuditAsync();
    report["audit"] = audit;
    report["ratio_open_loop_sealed_to_bare_sqlite"] = Math.Round(audit["open_loop_sealed_appends_per_second"]!.GetValue<double>() / baseline["rows_per_second"]!.GetValue<double>(), 3);
}
finally
{
    Directory.Delete(work, recursive: true);
}

Console.WriteLine(report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
return 0;

int Option(string name, int fallback)
{
    var at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], System.Globalization.CultureInfo.InvariantCulture) : fallback;
}

void Log(string message) => Console.Error.WriteLine(message);

LogSigner NewSigner() => new(origin, MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa65), MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa44));

async Task<JsonObject> SealedAppendsAsync(int concurrency)
{
    var db = Path.Combine(work, $"appends-{concurrency}.db");
    await using var log = await TransparencyLog.OpenAsync(SqliteLogStore.Open(db), NewSigner());
    var latencies = new List<double>[concurrency];
    var stop = Stopwatch.StartNew();
    var deadline = TimeSpan.FromSeconds(seconds);
    var checkpointsBefore = log.Latest.Size;
    await Task.WhenAll(Enumerable.Range(0, concurrency).Select(c => Task.Run(async () =>
    {
        var mine = latencies[c] = new List<double>(1 << 16);
        while (stop.Elapsed < deadline)
        {
            var t0 = Stopwatch.GetTimestamp();
            await log.AppendAsync(entry);
            mine.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
    })));
    var elapsed = stop.Elapsed.TotalSeconds;
    var all = latencies.SelectMany(l => l).Order().ToArray();
    var checkpoints = 0;
    await foreach (var _ in log.Reader.ReadCheckpointsAsync(checkpointsBefore + 1))
    {
        checkpoints++;
    }

    return new JsonObject
    {
        ["concurrency"] = concurrency,
        ["appends"] = all.Length,
        ["appends_per_second"] = Math.Round(all.Length / elapsed, 1),
        ["latency_ms_p50"] = Math.Round(Percentile(all, 0.50), 3),
        ["latency_ms_p99"] = Math.Round(Percentile(all, 0.99), 3),
        ["checkpoints_signed"] = checkpoints,
        ["mean_entries_per_checkpoint"] = checkpoints == 0 ? 0 : Math.Round((double)all.Length / checkpoints, 1),
    };
}

JsonObject BareSqlite()
{
    // The floor any SQLite-backed log pays: the same bytes, same durability settings, big transactions, no hashing or signing.
    var db = Path.Combine(work, "bare.db");
    using var connection = new SqliteConnection($"Data Source={db};Pooling=False");
    connection.Open();
    using (var pragma = connection.CreateCommand())
    {
        pragma.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE entries(idx INTEGER PRIMARY KEY, data BLOB NOT NULL);";
        pragma.ExecuteNonQuery();
    }

    const int batch = 1_000;
    long rows = 0;
    var stop = Stopwatch.StartNew();
    while (stop.Elapsed < TimeSpan.FromSeconds(seconds))
    {
        using var tx = connection.BeginTransaction();
        using var insert = connection.CreateCommand();
        insert.Transaction = tx;
        insert.CommandText = "INSERT INTO entries(idx, data) VALUES ($i, $d)";
        var i = insert.Parameters.Add("$i", SqliteType.Integer);
        var d = insert.Parameters.Add("$d", SqliteType.Blob);
        insert.Prepare();
        for (var n = 0; n < batch; n++)
        {
            i.Value = rows++;
            d.Value = entry;
            insert.ExecuteNonQuery();
        }

        tx.Commit();
    }

    return new JsonObject
    {
        ["rows"] = rows,
        ["batch_rows"] = batch,
        ["rows_per_second"] = Math.Round(rows / stop.Elapsed.TotalSeconds, 1),
    };
}

async Task<JsonObject> AuditAsync()
{
    // Open loop: every append is queued at once (retrying on backpressure), so batches fill to the limit.
    double openLoopRate;
    var db = Path.Combine(work, "audit.db");
    var seed65 = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
    var seed44 = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
    LogSigner FromSeeds() => new(origin, MlDsaPrivateKey.FromSeed(MlDsaAlgorithm.MlDsa65, seed65), MlDsaPrivateKey.FromSeed(MlDsaAlgorithm.MlDsa44, seed44));
    using var signer = FromSeeds();
    var keys = signer.VerifierKeys;
    await using (var log = await TransparencyLog.OpenAsync(SqliteLogStore.Open(db), FromSeeds()))
    {
        var pending = new List<Task<AppendResult>>(auditEntries);
        var fill = Stopwatch.StartNew();
        for (var n = 0; n < auditEntries; n++)
        {
            while (true)
            {
                try
                {
                    pending.Add(log.AppendAsync(entry));
                    break;
                }
                catch (LogBackpressureException)
                {
                    await Task.Delay(5);
                }
            }
        }

        await Task.WhenAll(pending);
        openLoopRate = Math.Round(auditEntries / fill.Elapsed.TotalSeconds, 1);
    }

    await using var store = SqliteLogStore.Open(db);
    var verifier = CheckpointVerifier.ForLogKeys(keys);
    var latest = (await store.GetLatestCheckpointAsync())!;
    var claim = new RootClaim(latest.Size, verifier.Verify(latest.Note).Checkpoint.Root, "latest checkpoint");
    var stop = Stopwatch.StartNew();
    var result = await new LogAuditor(new StoreLogSource(store)).AuditAsync(latest.Size, [claim]);
    var auditSeconds = stop.Elapsed.TotalSeconds;
    if (!result.Intact)
    {
        throw new InvalidOperationException("benchmark log failed its audit: " + result.Problem);
    }

    var receipt = await LogProofs.ReceiptAsync(store, latest.Size / 2);
    var receiptVerifier = new ReceiptVerifier(keys);
    receiptVerifier.Verify(receipt);
    var verifications = 0;
    stop.Restart();
    while (stop.Elapsed < TimeSpan.FromSeconds(Math.Min(seconds, 3)))
    {
        receiptVerifier.Verify(receipt);
        verifications++;
    }

    var verifySeconds = stop.Elapsed.TotalSeconds;
    stop.Restart();
    const int receiptBuilds = 200;
    for (var n = 0; n < receiptBuilds; n++)
    {
        await LogProofs.ReceiptAsync(store, n * (latest.Size / receiptBuilds));
    }

    return new JsonObject
    {
        ["open_loop_sealed_appends_per_second"] = openLoopRate,
        ["entries"] = result.EntriesChecked,
        ["tiles"] = result.TilesChecked,
        ["audit_entries_per_second"] = Math.Round(result.EntriesChecked / auditSeconds, 1),
        ["receipt_bytes"] = receipt.Length,
        ["receipt_verifications_per_second"] = Math.Round(verifications / verifySeconds, 1),
        ["receipt_verification_ms"] = Math.Round(verifySeconds * 1000 / verifications, 4),
        ["receipt_build_ms"] = Math.Round(stop.Elapsed.TotalMilliseconds / receiptBuilds, 4),
    };
}

static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
