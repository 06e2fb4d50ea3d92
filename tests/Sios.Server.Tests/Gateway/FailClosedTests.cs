using System.Net;
using System.Text;
using System.Text.Json;

namespace Sios.Server.Tests.Gateway;

/// <summary>No seal, no answer: when the store cannot make an entry durable, the client gets a 503 and nothing of the answer.</summary>
public sealed class FailClosedTests
{
    private const string Chat = """{"model":"tiny","messages":[{"role":"user","content":"Hello"}],"max_tokens":4}""";

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Theory]
    [InlineData("batch.before")]
    [InlineData("batch.after")]
    [InlineData("checkpoint.before")]
    public async Task A_store_that_fails_turns_every_answer_into_a_503_without_content(string point)
    {
        await using var gateway = await InProcessGateway.StartAsync();
        using var client = gateway.Client();
        var ok = await client.PostAsync("/v1/chat/completions", Json(Chat));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.True(ok.Headers.Contains("Sios-Log-Index"));

        gateway.Store.Fault = p => p == point ? new IOException("No space left on device") : null;
        foreach (var body in new[] { Chat, Chat.Replace("\"max_tokens\":4", "\"max_tokens\":4,\"stream\":true", StringComparison.Ordinal) })
        {
            var refused = await client.PostAsync("/v1/chat/completions", Json(body));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.False(refused.Headers.Contains("Sios-Log-Index"));
            Assert.Equal("application/json", refused.Content.Headers.ContentType!.MediaType);
            var text = await refused.Content.ReadAsStringAsync();
            using var error = JsonDocument.Parse(text);
            Assert.Equal("seal_unavailable", error.RootElement.GetProperty("error").GetProperty("code").GetString());
            Assert.DoesNotContain("choices", text, StringComparison.Ordinal);
        }

        // Still up, and saying so honestly: the health endpoint answers that it is not ready, the log does not grow.
        var health = await client.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        using (var status = JsonDocument.Parse(await health.Content.ReadAsStringAsync()))
        {
            Assert.Equal("unavailable", status.RootElement.GetProperty("status").GetString());
        }

        await Assert.ThrowsAnyAsync<Exception>(() => gateway.Log.AppendAsync("{}"u8.ToArray()));
    }

    [Fact]
    public async Task A_full_append_queue_is_a_503_with_retry_after_and_no_answer()
    {
        await using var gateway = await InProcessGateway.StartAsync(new Sios.Ledger.Pipeline.TransparencyLogOptions { QueueCapacity = 1, MaxBatchSize = 1 });
        using var client = gateway.Client();
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/embeddings", Json("""{"model":"tiny","input":"warm"}"""))).StatusCode);

        // The store stalls inside a write (a slow disk): the one queue slot fills, and the requests behind it are refused.
        using var stall = new ManualResetEventSlim();
        gateway.Store.Fault = _ =>
        {
            stall.Wait(TimeSpan.FromSeconds(30));
            return null;
        };
        var requests = Enumerable.Range(0, 6).Select(i => client.PostAsync("/v1/embeddings", Json($$"""{"model":"tiny","input":"x{{i}}"}"""))).ToList();
        var busy = await Task.WhenAny(requests);
        var first = await busy;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, first.StatusCode);
        Assert.True(first.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        var text = await first.Content.ReadAsStringAsync();
        Assert.Contains("seal_busy", text, StringComparison.Ordinal);
        Assert.DoesNotContain("embedding\"", text, StringComparison.Ordinal);
        stall.Set();
        gateway.Store.Fault = null;
        var statuses = (await Task.WhenAll(requests)).Select(r => r.StatusCode).ToList();
        Assert.Contains(HttpStatusCode.ServiceUnavailable, statuses);
        Assert.All(statuses, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, s.ToString()));
    }

    [Fact]
    public async Task Stopping_drains_and_seals_system_stopped_last()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        using var client = gateway.Client();
        var before = gateway.Log.Latest.Size;
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/embeddings", Json("""{"model":"tiny","input":"x"}"""))).StatusCode);
        await gateway.Server.StopAsync();
        var entries = await gateway.Log.Reader.ReadEntriesAsync(before, 10);
        var types = entries.Select(e =>
        {
            using var doc = JsonDocument.Parse(e);
            return doc.RootElement.GetProperty("type").GetString();
        });
        Assert.Equal(["brain.loaded", "inference", "system.stopped"], types);
        using var last = JsonDocument.Parse(entries[^1]);
        Assert.Equal("test", last.RootElement.GetProperty("version").GetString());
    }
}
