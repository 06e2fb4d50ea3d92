using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Sios.EndToEnd.Attacks;

/// <summary>
/// Issue 11, item 3, against a real `sios serve`: what a client with a valid key can do to the node's record and
/// budget. A stream the client abandons is charged to its key; a flood of refused requests does not fill the log; a
/// request running when the process dies is still in the record.
/// </summary>
public sealed class RequestAttackTests : IAsyncLifetime
{
    private readonly ServedDemo _demo = new();

    public Task InitializeAsync() => _demo.InitializeAsync();

    public Task DisposeAsync() => _demo.DisposeAsync();

    private async Task<long> LogSizeAsync()
    {
        var run = await SiosCli.RunAsync("log", "checkpoint", "--data", _demo.Data);
        Assert.True(run.ExitCode == 0, run.Err);
        return long.Parse(run.Out.Split('\n')[1], CultureInfo.InvariantCulture);
    }

    private async Task<string> KeyAsync(params string[] limits)
    {
        var run = await SiosCli.RunAsync(["key", "create", "k" + Guid.NewGuid().ToString("N")[..8], "--brains", "demo", .. limits, "--data", _demo.Data]);
        Assert.True(run.ExitCode == 0, run.Err);
        return run.Out.Trim();
    }

    private static StringContent Chat(int maxTokens, bool stream) => new(
        $$"""{"model":"demo","messages":[{"role":"user","content":"Tell me everything you know."}],"max_tokens":{{maxTokens}},"stream":{{(stream ? "true" : "false")}}}""",
        Encoding.UTF8, "application/json");

    // Opens a stream and reads until `events` data lines arrived, then drops the connection.
    private static async Task<HttpStatusCode> AbandonAsync(HttpClient client, int events)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = Chat(400, stream: true) };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return response.StatusCode;
        }

        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        for (var seen = 0; seen < events && await reader.ReadLineAsync() is { } line;)
        {
            seen += line.StartsWith("data: ", StringComparison.Ordinal) ? 1 : 0;
        }

        return HttpStatusCode.OK;
    }

    [Fact]
    public async Task Streams_a_client_abandons_are_charged_to_its_token_budget()
    {
        using var client = _demo.Client(await KeyAsync("--tpm", "60"));
        var statuses = new List<HttpStatusCode>();
        using var watchdog = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        for (var i = 0; i < 12 && !statuses.Contains(HttpStatusCode.TooManyRequests); i++)
        {
            statuses.Add(await AbandonAsync(client, events: 4).WaitAsync(watchdog.Token));
            // The server notices the client left at its next write; give it that moment before the next request.
            await Task.Delay(300, watchdog.Token);
        }

        // Before, nothing was charged for an abandoned stream and every one of these was admitted.
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
    }

    [Fact]
    public async Task A_flood_of_refused_requests_is_answered_but_seals_a_bounded_number_of_entries()
    {
        using var client = _demo.Client(await KeyAsync());
        var before = await LogSizeAsync();
        var receipts = 0;
        for (var i = 0; i < 200; i++)
        {
            using var response = await client.PostAsync("v1/chat/completions", new StringContent("{}", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.True(error.RootElement.TryGetProperty("error", out _));
            receipts += response.Headers.Contains("Sios-Log-Index") ? 1 : 0;
        }

        var grown = await LogSizeAsync() - before;
        Assert.InRange(receipts, 1, 20);
        Assert.InRange(grown, receipts, receipts + 2);
    }

    [Fact]
    public async Task A_request_running_when_the_process_dies_is_sealed_at_the_next_start()
    {
        using (var client = _demo.Client())
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = Chat(400, stream: true) };
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var begin = long.Parse(response.Headers.GetValues("Sios-Begin-Index").Single(), CultureInfo.InvariantCulture);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            _ = await reader.ReadLineAsync();
            await _demo.KillAsync();

            await _demo.StartAsync();
            var size = await LogSizeAsync();
            var beginEntry = await _demo.EntryAsync(begin);
            var found = false;
            for (var index = begin + 1; index < size && !found; index++)
            {
                var entry = await _demo.EntryAsync(index);
                found = entry.GetProperty("type").GetString() == "inference.interrupted"
                    && entry.GetProperty("request").GetString() == beginEntry.GetProperty("request").GetString()
                    && entry.GetProperty("brain").GetString() == "demo";
            }

            Assert.True(found, "no inference.interrupted entry names the request that was running");
        }

        var verify = await SiosCli.RunAsync("log", "verify", "--data", _demo.Data);
        Assert.True(verify.ExitCode == 0, verify.Err);
    }

    [Fact]
    public async Task A_note_forged_in_the_data_folder_is_not_sealed_as_a_request()
    {
        Assert.Equal(0, await _demo.StopAsync());
        var folder = Path.Combine(_demo.Data, "run", "inflight");
        Directory.CreateDirectory(folder);
        var forged = """{"id":"0190d0c0-0000-7000-8000-00000000beef","actor":"key:boss","api":"chat.completions","brain":"demo","request":"AAAA","stream":false,"started":"2026-12-01T10:00:00.000Z"}""";
        await File.WriteAllTextAsync(Path.Combine(folder, "forged.json"), forged + "\n" + Convert.ToBase64String(new byte[32]));
        var before = await LogSizeAsync();

        await _demo.StartAsync();
        var size = await LogSizeAsync();
        var types = new List<string>();
        for (var index = before; index < size; index++)
        {
            var entry = await _demo.EntryAsync(index);
            types.Add(entry.GetProperty("type").GetString()!);
            Assert.False(entry.GetProperty("actor").GetString() == "key:boss", $"entry {index} was sealed for the forged note");
        }

        Assert.DoesNotContain("inference.interrupted", types);
        Assert.Contains("state.refused", types);
        Assert.False(File.Exists(Path.Combine(folder, "forged.json")));
    }
}
