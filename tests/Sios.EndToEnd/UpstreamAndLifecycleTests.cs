using System.Net;
using System.Text;
using System.Text.Json;

namespace Sios.EndToEnd;

/// <summary>
/// A second SIOS on 127.0.0.1 whose brain is an upstream: the first SIOS. Both seal the answer; only an allow-listed
/// address is reached. Also: SIGTERM drains, seals system.stopped, and leaves a log that audits clean.
/// </summary>
public sealed class UpstreamAndLifecycleTests(ServedDemo upstream) : IClassFixture<ServedDemo>
{
    private const string Ask = """{"model":"remote","messages":[{"role":"user","content":"Hello, upstream"}],"max_tokens":5}""";

    private static async Task<ServedDemo> DownstreamAsync(ServedDemo upstream, bool allowEgress)
    {
        var downstream = new ServedDemo();
        if (allowEgress)
        {
            downstream.ServeArgs = ["--egress", "127.0.0.1"];
        }

        downstream.Environment["SIOS_UPSTREAM_KEY"] = upstream.AdminKey;
        downstream.BeforeServe = async demo =>
        {
            var added = await SiosCli.RunAsync("brain", "add", "remote", "--upstream", upstream.Url.ToString(), "--upstream-model", "clinical",
                "--upstream-key-env", "SIOS_UPSTREAM_KEY", "--data", demo.Data);
            Assert.True(added.ExitCode == 0, added.Err);
        };
        await downstream.InitializeAsync();
        return downstream;
    }

    [Fact]
    public async Task A_brain_served_by_another_sios_is_sealed_on_both_sides()
    {
        await using var downstream = new AsyncDisposer(await DownstreamAsync(upstream, allowEgress: true));
        using var client = downstream.Demo.Client();
        var request = Encoding.UTF8.GetBytes(Ask);
        var response = await client.PostAsync("/v1/chat/completions", new ByteArrayContent(request) { Headers = { ContentType = new("application/json") } });
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, Encoding.UTF8.GetString(body) + downstream.Demo.Stderr);
        var entry = await Receipts.VerifyAnswerAsync(downstream.Demo, response.Headers, request, body);
        Assert.Equal("remote", entry.GetProperty("brain").GetString());
        Assert.Equal("clinical", entry.GetProperty("upstream").GetProperty("model").GetString());
        Assert.Equal(upstream.Url.ToString(), entry.GetProperty("upstream").GetProperty("url").GetString());
        Assert.False(entry.TryGetProperty("weights", out _));

        // The upstream sealed the same exchange on its side, as an answer to the downstream's key.
        using var upstreamClient = upstream.Client();
        var checkpoint = Verify.Checkpoints.CheckpointVerifier.ForLogKeys(upstream.Vkeys).Verify(await upstreamClient.GetByteArrayAsync("/log/checkpoint"));
        var last = new Verify.Receipts.ReceiptVerifier(upstream.Vkeys).Verify(await upstreamClient.GetByteArrayAsync($"/log/receipts/{checkpoint.Checkpoint.Size - 1}"));
        using var upstreamEntry = JsonDocument.Parse(last.Entry);
        Assert.Equal("inference", upstreamEntry.RootElement.GetProperty("type").GetString());
        Assert.Equal("clinical", upstreamEntry.RootElement.GetProperty("brain").GetString());
        Assert.True(upstreamEntry.RootElement.GetProperty("stream").GetBoolean());
    }

    [Fact]
    public async Task Without_the_allow_list_the_upstream_is_not_reached_and_the_refusal_is_sealed()
    {
        await using var downstream = new AsyncDisposer(await DownstreamAsync(upstream, allowEgress: false));
        using var upstreamClient = upstream.Client();
        var before = Verify.Checkpoints.CheckpointVerifier.ForLogKeys(upstream.Vkeys).Verify(await upstreamClient.GetByteArrayAsync("/log/checkpoint")).Checkpoint.Size;
        using var client = downstream.Demo.Client();
        var response = await client.PostAsync("/v1/chat/completions", new StringContent(Ask, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.FailedDependency, response.StatusCode);
        Assert.Contains("allow", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        Assert.True(response.Headers.Contains("Sios-Log-Index"));
        var after = Verify.Checkpoints.CheckpointVerifier.ForLogKeys(upstream.Vkeys).Verify(await upstreamClient.GetByteArrayAsync("/log/checkpoint")).Checkpoint.Size;
        Assert.Equal(before, after);

        // The refusal is in the downstream's own log as egress.refused, naming the destination.
        var note = await client.GetByteArrayAsync("/log/checkpoint");
        var size = Verify.Checkpoints.CheckpointVerifier.ForLogKeys(downstream.Demo.Vkeys).Verify(note).Checkpoint.Size;
        var found = false;
        for (var i = size - 1; i >= 0 && !found; i--)
        {
            var receipt = new Verify.Receipts.ReceiptVerifier(downstream.Demo.Vkeys).Verify(await client.GetByteArrayAsync($"/log/receipts/{i}"));
            using var entry = JsonDocument.Parse(receipt.Entry);
            if (entry.RootElement.GetProperty("type").GetString() == "egress.refused")
            {
                Assert.Equal(upstream.Url.Port, entry.RootElement.GetProperty("port").GetInt32());
                Assert.Equal("127.0.0.1", entry.RootElement.GetProperty("host").GetString());
                found = true;
            }
        }

        Assert.True(found, "no egress.refused entry was sealed");
    }

    [Fact]
    public async Task Sigterm_drains_seals_system_stopped_and_the_log_audits_clean()
    {
        var demo = new ServedDemo();
        await using var owner = new AsyncDisposer(demo);
        await demo.InitializeAsync();
        using (var client = demo.Client())
        {
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/completions", new StringContent("""{"model":"demo","prompt":"a","max_tokens":3}""", Encoding.UTF8, "application/json"))).StatusCode);
        }

        Assert.Equal(0, await demo.StopAsync());
        var size = (await SiosCli.RunAsync("log", "checkpoint", "--data", demo.Data)).Out.Split('\n')[1];
        var last = await SiosCli.RunAsync("log", "entry", (long.Parse(size, System.Globalization.CultureInfo.InvariantCulture) - 1).ToString(System.Globalization.CultureInfo.InvariantCulture), "--data", demo.Data);
        using var entry = JsonDocument.Parse(last.Out);
        Assert.Equal("system.stopped", entry.RootElement.GetProperty("type").GetString());
        var audit = await SiosCli.RunAsync("log", "verify", "--data", demo.Data);
        Assert.True(audit.ExitCode == 0, audit.Out + audit.Err);

        // Restarted with the same config, it serves again from the same log, and no config change is claimed.
        await demo.StartAsync();
        using (var again = demo.Client())
        {
            Assert.Equal(HttpStatusCode.OK, (await again.GetAsync("/healthz")).StatusCode);
        }

        var first = await demo.EntryAsync(long.Parse(size, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("system.started", first.GetProperty("type").GetString());

        // Restarted with another config, config.changed is sealed just before system.started and names both digests.
        Assert.Equal(0, await demo.StopAsync());
        var stoppedAt = long.Parse((await SiosCli.RunAsync("log", "checkpoint", "--data", demo.Data)).Out.Split('\n')[1], System.Globalization.CultureInfo.InvariantCulture);
        demo.ServeArgs = ["--max-request-bytes", "1048576"];
        await demo.StartAsync();
        var changed = await demo.EntryAsync(stoppedAt);
        var started = await demo.EntryAsync(stoppedAt + 1);
        Assert.Equal("config.changed", changed.GetProperty("type").GetString());
        Assert.Equal("system.started", started.GetProperty("type").GetString());
        Assert.Equal(started.GetProperty("config").GetString(), changed.GetProperty("sha256").GetString());
        Assert.Equal(first.GetProperty("config").GetString(), changed.GetProperty("previous").GetString());
        Assert.NotEqual(changed.GetProperty("sha256").GetString(), changed.GetProperty("previous").GetString());
    }

    /// <summary>Initialises nothing, disposes a fixture made by hand.</summary>
    private sealed class AsyncDisposer(ServedDemo demo) : IAsyncDisposable
    {
        public ServedDemo Demo => demo;

        public async ValueTask DisposeAsync() => await demo.DisposeAsync();
    }
}
