using System.Text.Json;

namespace Sios.Witness.Tests;

/// <summary>
/// What <c>sios witness serve</c> offers its console, from outside the process: the logs it follows with their latest
/// cosigned checkpoint, its record paged by byte offset (a bad offset is a 400, never a crash or a misread), and the
/// page itself under the console's strict policy.
/// </summary>
public sealed class WitnessConsoleTests(WitnessedLogs logs) : IClassFixture<WitnessedLogs>
{
    [Fact(Timeout = 180_000)]
    public async Task The_witness_shows_its_logs_and_pages_through_its_record()
    {
        logs.ResetWitness();
        await using var witness = await ServedWitness.StartAsync(logs.WitnessData);
        Assert.Equal(200, (await witness.PostAsync(ServedWitness.Body(0, [], logs.Common.Note))).Status);
        var grown = await witness.PostAsync(ServedWitness.Body(logs.Common.Size, logs.Proof('A', logs.Common.Size, logs.A[0].Size)!, logs.A[0].Note));
        Assert.Equal(200, grown.Status);

        var (status, type, _, body) = await witness.GetAsync("witness/logs");
        Assert.Equal(200, status);
        Assert.Equal("application/json", type);
        using (var shown = JsonDocument.Parse(body))
        {
            Assert.Equal(WitnessedLogs.WitnessName, shown.RootElement.GetProperty("name").GetString());
            Assert.Equal(logs.WitnessKeys.Select(k => k.ToString()), shown.RootElement.GetProperty("vkeys").EnumerateArray().Select(v => v.GetString()));
            var log = shown.RootElement.GetProperty("logs").EnumerateArray().Single(l => l.GetProperty("origin").GetString() == WitnessedLogs.Origin);
            var latest = await witness.LatestAsync(WitnessedLogs.Origin);
            Assert.Equal(System.Text.Encoding.UTF8.GetString(latest.Body), log.GetProperty("latest").GetString());
        }

        (status, _, _, body) = await witness.GetAsync("witness/record");
        Assert.Equal(200, status);
        long next;
        long second;
        using (var page = JsonDocument.Parse(body))
        {
            var records = page.RootElement.GetProperty("records").EnumerateArray().ToList();
            Assert.Equal(2, records.Count);
            Assert.Equal(0, records[0].GetProperty("offset").GetInt64());
            Assert.StartsWith(WitnessedLogs.Origin + "\n", records[1].GetProperty("note").GetString(), StringComparison.Ordinal);
            second = records[1].GetProperty("offset").GetInt64();
            next = page.RootElement.GetProperty("next").GetInt64();
        }

        (status, _, _, body) = await witness.GetAsync($"witness/record?from={second}");
        Assert.Equal(200, status);
        Assert.Single(JsonDocument.Parse(body).RootElement.GetProperty("records").EnumerateArray());
        (status, _, _, body) = await witness.GetAsync($"witness/record?from={next}");
        Assert.Equal(200, status);
        Assert.Empty(JsonDocument.Parse(body).RootElement.GetProperty("records").EnumerateArray());
        foreach (var bad in new[] { "1", "abc", "-1", $"{second - 1}", "99999999999999999999", "0&from=1" })
        {
            Assert.Equal(400, (await witness.GetAsync($"witness/record?from={bad}")).Status);
        }

        var (pageStatus, pageType, policy, html) = await witness.GetAsync("console/");
        if (pageStatus == 503)
        {
            return; // built without the console (no web/console/node_modules): the gateway's console tests say so
        }

        Assert.Equal(200, pageStatus);
        Assert.Equal("text/html", pageType);
        Assert.Contains("script-src 'self'", policy, StringComparison.Ordinal);
        Assert.Contains("witness.js", html, StringComparison.Ordinal);
        Assert.Equal(200, (await witness.GetAsync("console/witness.js")).Status);
        Assert.Equal(404, (await witness.GetAsync("console/record")).Status);
    }
}
