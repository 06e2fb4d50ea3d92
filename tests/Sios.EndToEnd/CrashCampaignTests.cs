using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Sios.Verify.Checkpoints;
using Sios.Verify.Merkle;
using Xunit.Abstractions;

namespace Sios.EndToEnd;

/// <summary>
/// The crash campaign (issue [5/5] item 1): clients drive sealed requests while the real server is killed with SIGKILL
/// at random moments and restarted, again and again. After every restart: every answer a client received with a
/// <c>Sios-Log-Index</c> is in the log with matching commitments (acknowledged entries lost must be 0), the log audits
/// clean, and every checkpoint seen is consistent with the one before it. CI runs 10 restarts; for the long form:
/// <c>SIOS_CRASH_RESTARTS=100 dotnet test tests/Sios.EndToEnd --filter CrashCampaign</c>. The report is printed as
/// JSON (test output) and written to <c>$TMPDIR/sios-crash-campaign.json</c>.
/// </summary>
public sealed class CrashCampaignTests(ITestOutputHelper output)
{
    private sealed record Acknowledged(long Index, byte[] Request, byte[] Response, string RequestNonce, string ResponseNonce);

    [Fact]
    public async Task Killing_the_server_at_random_loses_no_acknowledged_answer()
    {
        var restarts = int.TryParse(Environment.GetEnvironmentVariable("SIOS_CRASH_RESTARTS"), CultureInfo.InvariantCulture, out var n) ? n : 10;
        var seed = Environment.GetEnvironmentVariable("SIOS_CRASH_SEED") is { } given ? int.Parse(given, CultureInfo.InvariantCulture) : Environment.TickCount;
        var random = new Random(seed);
        output.WriteLine($"seed {seed} (SIOS_CRASH_SEED replays the kill times)");
        var demo = new ServedDemo();
        await demo.InitializeAsync();
        var acknowledged = new List<Acknowledged>();
        var recoveries = new List<double>();
        var checkpoints = 0;
        var failedRequests = 0;
        (long Size, byte[] Root)? previous = null;
        try
        {
            for (var round = 0; round < restarts; round++)
            {
                using var stop = new CancellationTokenSource();
                var got = new List<Acknowledged>();
                var clients = Enumerable.Range(0, 4).Select(c => DriveAsync(demo, c, got, stop.Token)).ToList();

                // The kill comes at a random moment once answers flow: on a loaded machine the first answers of a round
                // (which load the brains) can take longer than the whole random delay.
                for (var waited = 0; waited < 600 && Count(got) == 0; waited++)
                {
                    await Task.Delay(100);
                }

                await Task.Delay(random.Next(300, 1500));
                await demo.KillAsync();
                await stop.CancelAsync();
                failedRequests += (await Task.WhenAll(clients)).Sum();
                acknowledged.AddRange(got);

                var started = Stopwatch.GetTimestamp();
                await demo.StartAsync();
                recoveries.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);

                using var client = demo.Client();
                var checkpoint = CheckpointVerifier.ForLogKeys(demo.Vkeys).Verify(await client.GetByteArrayAsync("/log/checkpoint")).Checkpoint;
                checkpoints++;
                foreach (var answer in got)
                {
                    Assert.True(answer.Index < checkpoint.Size, $"round {round}: acknowledged entry {answer.Index} is beyond the recovered log (size {checkpoint.Size})");
                    await Receipts.VerifyAsync(demo, answer.Index, answer.RequestNonce, answer.ResponseNonce, answer.Request, answer.Response);
                }

                if (previous is { } before)
                {
                    var proof = await SiosCli.RunAsync("log", "consistency", "--from", before.Size.ToString(CultureInfo.InvariantCulture), "--to", checkpoint.Size.ToString(CultureInfo.InvariantCulture), "--data", demo.Data);
                    Assert.True(proof.ExitCode == 0, proof.Err);
                    MerkleProofs.VerifyConsistency(before.Size, checkpoint.Size,
                        [.. proof.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Convert.FromBase64String)], before.Root, checkpoint.Root.ToArray());
                }

                previous = (checkpoint.Size, checkpoint.Root.ToArray());
                var audit = await SiosCli.RunAsync("log", "verify", "--data", demo.Data);
                Assert.True(audit.ExitCode == 0, $"round {round}: the log does not audit clean: {audit.Out} {audit.Err}");
            }

            // All of them once more at the end, against the final log.
            foreach (var answer in acknowledged)
            {
                await Receipts.VerifyAsync(demo, answer.Index, answer.RequestNonce, answer.ResponseNonce, answer.Request, answer.Response);
            }

            var report = JsonSerializer.Serialize(new
            {
                campaign = "sios-crash",
                restarts_survived = restarts,
                entries_acknowledged = acknowledged.Count,
                acknowledged_entries_lost = 0,
                requests_cut_by_the_kill = failedRequests,
                checkpoints_checked_for_consistency = checkpoints,
                recovery_ms = new { p50 = Percentile(recoveries, 0.5), max = recoveries.Max() },
            });
            output.WriteLine(report);
            await File.WriteAllTextAsync(Path.Combine(Path.GetTempPath(), "sios-crash-campaign.json"), report);
            Assert.True(acknowledged.Count > restarts, $"only {acknowledged.Count} answers were acknowledged: the campaign did not exercise the log");
        }
        finally
        {
            await demo.DisposeAsync();
        }
    }

    /// <summary>One client asking until stopped; returns how many requests the kill cut off.</summary>
    private static int Count(List<Acknowledged> got)
    {
        lock (got)
        {
            return got.Count;
        }
    }

    private static async Task<int> DriveAsync(ServedDemo demo, int client, List<Acknowledged> got, CancellationToken stop)
    {
        using var http = demo.Client();
        var cut = 0;
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var request = Encoding.UTF8.GetBytes(i % 3 == 0
                ? $$"""{"model":"ledger","input":"client {{client}} request {{i}}"}"""
                : $$"""{"model":"{{(i % 2 == 0 ? "demo" : "clinical")}}","prompt":"client {{client}} request {{i}}","max_tokens":2}""");
            try
            {
                using var content = new ByteArrayContent(request) { Headers = { ContentType = new("application/json") } };
                using var response = await http.PostAsync(i % 3 == 0 ? "/v1/embeddings" : "/v1/completions", content, stop);
                var body = await response.Content.ReadAsByteArrayAsync(stop);
                if (response.Headers.TryGetValues("Sios-Log-Index", out var index))
                {
                    var answer = new Acknowledged(long.Parse(index.Single(), CultureInfo.InvariantCulture), request, body,
                        Receipts.Header(response.Headers, "Sios-Request-Nonce"), Receipts.Header(response.Headers, "Sios-Response-Nonce"));
                    lock (got)
                    {
                        got.Add(answer);
                    }
                }
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
            {
                cut++;
                if (!stop.IsCancellationRequested)
                {
                    await Task.Delay(20, CancellationToken.None);
                }
            }
        }

        return cut;
    }

    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return Math.Round(sorted[(int)Math.Min(sorted.Count - 1, Math.Floor(p * sorted.Count))], 1);
    }
}
