using System.Text.Json;
using Sios.Ledger.Publication;

namespace Sios.Server.Tests.Gateway;

/// <summary><c>/healthz</c> and <c>/metrics</c> of the time-stamping stage: its state and counts, never the TSA's words.</summary>
public sealed class HealthTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("sios-stamps-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Healthz_and_metrics_show_the_time_stamping_state_and_counts_but_not_what_the_TSA_said()
    {
        var tsa = new ErrorTsa();
        CheckpointTimestamping? stage = null;
        await using var gateway = await InProcessGateway.StartAsync(configure: services => services with
        {
            Timestamping = stage = new CheckpointTimestamping(tsa, new TimestampFolder(_folder), () => services.Published, new TimestampingOptions { Tsa = "https://tsa.example" }),
        });
        await using var owned = stage!;
        using var client = gateway.Client();

        using (var pending = JsonDocument.Parse(await client.GetStringAsync("/healthz")))
        {
            var timestamping = pending.RootElement.GetProperty("timestamping");
            Assert.Equal("https://tsa.example", timestamping.GetProperty("tsa").GetString());
            Assert.Equal("pending", timestamping.GetProperty("state").GetString());
            Assert.Equal(JsonValueKind.Null, timestamping.GetProperty("stamped_size").ValueKind);
            Assert.False(timestamping.TryGetProperty("last_status", out _));
            Assert.Equal(0, timestamping.GetProperty("failures").GetInt64());
        }

        Assert.False(await stage!.RoundAsync());
        var text = await client.GetStringAsync("/healthz");
        using (var refused = JsonDocument.Parse(text))
        {
            var timestamping = refused.RootElement.GetProperty("timestamping");
            Assert.Equal("refused", timestamping.GetProperty("state").GetString());
            Assert.Equal(503, timestamping.GetProperty("last_status").GetInt32());
            Assert.Equal(1, timestamping.GetProperty("failures").GetInt64());
            Assert.Equal(0, timestamping.GetProperty("tokens").GetInt64());
        }

        Assert.DoesNotContain(ErrorTsa.Words, text, StringComparison.Ordinal);
        var metrics = await client.GetStringAsync("/metrics");
        Assert.Equal("1", Sample(metrics, "sios_tsa_failures_total"));
        Assert.Equal("0", Sample(metrics, "sios_tsa_tokens_total"));
        Assert.Equal("0", Sample(metrics, "sios_tsa_stamped_size"));
    }

    [Fact]
    public async Task Without_a_TSA_healthz_says_nothing_of_time_stamping()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        using var client = gateway.Client();
        using var health = JsonDocument.Parse(await client.GetStringAsync("/healthz"));
        Assert.False(health.RootElement.TryGetProperty("timestamping", out _));
        Assert.DoesNotContain("sios_tsa_", await client.GetStringAsync("/metrics"), StringComparison.Ordinal);
    }

    // The value of the sample named name (with or without labels) in a Prometheus text exposition, or the text itself when there is none.
    private static string Sample(string metrics, string name) =>
        metrics.Split('\n').Where(l => l.StartsWith(name + " ", StringComparison.Ordinal) || l.StartsWith(name + "{", StringComparison.Ordinal))
            .Select(l => l[name.Length..]).Select(l => l.StartsWith('{') ? l[(l.LastIndexOf('}') + 1)..] : l)
            .Select(l => l.Trim().Split(' ')[0]).SingleOrDefault() ?? metrics;

    /// <summary>A TSA that answers every query with a 503 and a sentence that must not reach /healthz.</summary>
    private sealed class ErrorTsa : ITimestampClient
    {
        public const string Words = "internal TSA detail";

        public Task<TimestampReply> RequestAsync(byte[] query, CancellationToken cancellationToken) =>
            Task.FromResult(new TimestampReply(503, System.Text.Encoding.UTF8.GetBytes(Words)));
    }
}
