using System.Net;
using System.Text;
using System.Text.Json;
using Sios.Verify.Checkpoints;
using Sios.Verify.Notes;

namespace Sios.EndToEnd;

/// <summary>The gateway over plain HTTP: every answer sealed, its receipt verified offline, its commitments matched to the exact bytes.</summary>
public sealed class GatewayTests(ServedDemo demo) : IClassFixture<ServedDemo>
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private async Task<(HttpResponseMessage Response, byte[] Request, byte[] Body)> PostAsync(string path, string json, string? key = null)
    {
        using var client = demo.Client(key);
        var request = Encoding.UTF8.GetBytes(json);
        var response = await client.PostAsync(path, new ByteArrayContent(request) { Headers = { ContentType = new("application/json") } });
        return (response, request, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_chat_answer_is_sealed_and_its_receipt_and_commitments_verify()
    {
        var (response, request, body) = await PostAsync("/v1/chat/completions",
            """{"model":"clinical","messages":[{"role":"user","content":"Hello"}],"max_tokens":8,"seed":7}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var answer = JsonDocument.Parse(body);
        Assert.Equal("chat.completion", answer.RootElement.GetProperty("object").GetString());
        Assert.Equal("clinical", answer.RootElement.GetProperty("model").GetString());
        var usage = answer.RootElement.GetProperty("usage");

        var entry = await Receipts.VerifyAnswerAsync(demo, response.Headers, request, body);
        Assert.Equal("clinical", entry.GetProperty("brain").GetString());
        Assert.StartsWith("sha256:", entry.GetProperty("weights").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("sha256:", entry.GetProperty("adapter").GetString(), StringComparison.Ordinal);
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32(), entry.GetProperty("tokens").GetProperty("prompt").GetInt32());
        Assert.Equal(usage.GetProperty("completion_tokens").GetInt32(), entry.GetProperty("tokens").GetProperty("completion").GetInt32());
        Assert.Equal(answer.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString(), entry.GetProperty("finish").GetString());
        Assert.False(entry.GetProperty("stream").GetBoolean());
        Assert.StartsWith("key:", entry.GetProperty("actor").GetString(), StringComparison.Ordinal);
        Assert.Equal("chatcmpl-" + entry.GetProperty("id").GetString(), answer.RootElement.GetProperty("id").GetString());

        // Server-Timing says where the time went: the brain's work and the seal, both within the whole.
        var timing = System.Text.RegularExpressions.Regex.Match(
            Receipts.Header(response.Headers, "Server-Timing"), @"^brain;dur=([0-9.]+), seal;dur=([0-9.]+), total;dur=([0-9.]+)$");
        Assert.True(timing.Success, Receipts.Header(response.Headers, "Server-Timing"));
        var (brainMs, sealMs, totalMs) = (Ms(timing, 1), Ms(timing, 2), Ms(timing, 3));
        Assert.True(brainMs > 0 && sealMs > 0 && brainMs + sealMs <= totalMs, timing.Value);

        // One byte more or less in either body and the commitment no longer matches.
        var tampered = (byte[])body.Clone();
        tampered[^2] ^= 1;
        await Assert.ThrowsAsync<Xunit.Sdk.TrueException>(() => Receipts.VerifyAnswerAsync(demo, response.Headers, request, tampered));
    }

    [Fact]
    public async Task A_keys_repeated_prefix_is_served_from_its_prompt_cache_and_no_other_key_sees_it()
    {
        const string Ask = """{"model":"ledger","messages":[{"role":"user","content":"The same long question about the ledger, asked again."}],"max_tokens":4,"temperature":0}""";
        async Task<(int Prompt, int Cached, string Text)> AskAsync(string? key)
        {
            var (response, request, body) = await PostAsync("/v1/chat/completions", Ask, key);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await Receipts.VerifyAnswerAsync(demo, response.Headers, request, body);
            using var answer = JsonDocument.Parse(body);
            var usage = answer.RootElement.GetProperty("usage");
            return (usage.GetProperty("prompt_tokens").GetInt32(), usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32(),
                answer.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!);
        }

        var made = await SiosCli.RunAsync("key", "create", "cache-other", "--role", "user", "--brains", "ledger", "--data", demo.Data);
        Assert.True(made.ExitCode == 0, made.Err);
        var first = await AskAsync(null);
        var again = await AskAsync(null);
        var other = await AskAsync(made.Out.Trim());
        Assert.Equal(first.Text, again.Text);
        Assert.Equal(first.Text, other.Text);
        Assert.Equal(again.Prompt - 1, again.Cached);
        Assert.Equal(0, other.Cached);
    }

    [Fact]
    public async Task A_stream_seals_its_begin_before_the_first_byte_and_ends_with_the_receipt_comment()
    {
        var (response, request, body) = await PostAsync("/v1/chat/completions",
            """{"model":"contracts","messages":[{"role":"user","content":"Hi"}],"max_tokens":6,"stream":true,"stream_options":{"include_usage":true}}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/event-stream", response.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
        var text = Encoding.UTF8.GetString(body);
        var marker = text.IndexOf("\n: sios ", StringComparison.Ordinal);
        Assert.True(marker > 0, text);
        var sent = Encoding.UTF8.GetBytes(text[..(marker + 1)]);
        var commentLine = text[(marker + 1)..].Split('\n')[0];
        Assert.EndsWith("data: [DONE]\n\n", text, StringComparison.Ordinal);
        using var comment = JsonDocument.Parse(commentLine[": sios ".Length..]);
        var index = comment.RootElement.GetProperty("index").GetInt64();
        Assert.Equal($"/log/receipts/{index}", comment.RootElement.GetProperty("receipt").GetString());
        var requestNonce = comment.RootElement.GetProperty("request_nonce").GetString()!;
        var responseNonce = comment.RootElement.GetProperty("response_nonce").GetString()!;
        Assert.Equal(requestNonce, Receipts.Header(response.Headers, "Sios-Request-Nonce"));
        Assert.Equal(responseNonce, Receipts.Header(response.Headers, "Sios-Response-Nonce"));

        var entry = await Receipts.VerifyAsync(demo, index, requestNonce, responseNonce, request, sent);
        Assert.True(entry.GetProperty("stream").GetBoolean());
        var begin = entry.GetProperty("begin").GetInt64();
        Assert.Equal(begin.ToString(System.Globalization.CultureInfo.InvariantCulture), Receipts.Header(response.Headers, "Sios-Begin-Index"));
        Assert.True(begin < index);

        using var client = demo.Client();
        var beginReceipt = new Verify.Receipts.ReceiptVerifier(demo.Vkeys).Verify(await client.GetByteArrayAsync($"/log/receipts/{begin}"));
        using var beginEntry = JsonDocument.Parse(beginReceipt.Entry);
        Assert.Equal("inference.begin", beginEntry.RootElement.GetProperty("type").GetString());
        Assert.Equal(entry.GetProperty("request").GetString(), beginEntry.RootElement.GetProperty("request").GetString());

        var chunks = text[..marker].Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => JsonDocument.Parse(e["data: ".Length..])).ToList();
        Assert.Equal("assistant", chunks[0].RootElement.GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        var usage = chunks[^1].RootElement.GetProperty("usage");
        Assert.Equal(0, chunks[^1].RootElement.GetProperty("choices").GetArrayLength());
        Assert.Equal(usage.GetProperty("completion_tokens").GetInt32(), entry.GetProperty("tokens").GetProperty("completion").GetInt32());
        chunks.ForEach(c => c.Dispose());
    }

    [Fact]
    public async Task Completions_embeddings_and_json_mode_are_sealed_too()
    {
        var (completion, request, body) = await PostAsync("/v1/completions", """{"model":"demo","prompt":"Once upon","max_tokens":5}""");
        Assert.Equal(HttpStatusCode.OK, completion.StatusCode);
        Assert.Equal("completions", (await Receipts.VerifyAnswerAsync(demo, completion.Headers, request, body)).GetProperty("api").GetString());

        (var embeddings, request, body) = await PostAsync("/v1/embeddings", """{"model":"ledger","input":["one","two"]}""");
        Assert.Equal(HttpStatusCode.OK, embeddings.StatusCode);
        using (var doc = JsonDocument.Parse(body))
        {
            Assert.Equal(2, doc.RootElement.GetProperty("data").GetArrayLength());
            Assert.Equal(64, doc.RootElement.GetProperty("data")[0].GetProperty("embedding").GetArrayLength());
        }

        Assert.Equal("embeddings", (await Receipts.VerifyAnswerAsync(demo, embeddings.Headers, request, body)).GetProperty("api").GetString());

        (var base64, _, body) = await PostAsync("/v1/embeddings", """{"model":"ledger","input":"one","encoding_format":"base64"}""");
        using (var doc = JsonDocument.Parse(body))
        {
            Assert.Equal(64 * sizeof(float), Convert.FromBase64String(doc.RootElement.GetProperty("data")[0].GetProperty("embedding").GetString()!).Length);
        }

        (var json, request, body) = await PostAsync("/v1/chat/completions",
            """{"model":"demo","messages":[{"role":"user","content":"JSON please"}],"max_tokens":48,"response_format":{"type":"json_object"}}""");
        Assert.Equal(HttpStatusCode.OK, json.StatusCode);
        using (var doc = JsonDocument.Parse(body))
        {
            var choice = doc.RootElement.GetProperty("choices")[0];
            if (choice.GetProperty("finish_reason").GetString() == "stop")
            {
                using var content = JsonDocument.Parse(choice.GetProperty("message").GetProperty("content").GetString()!);
                Assert.Equal(JsonValueKind.Object, content.RootElement.ValueKind);
            }
            else
            {
                Assert.StartsWith("{", choice.GetProperty("message").GetProperty("content").GetString()!.TrimStart(), StringComparison.Ordinal);
            }
        }

        await Receipts.VerifyAnswerAsync(demo, json.Headers, request, body);
    }

    [Fact]
    public async Task Models_health_metrics_and_the_log_over_http()
    {
        using var client = demo.Client();
        using (var models = JsonDocument.Parse(await client.GetStringAsync("/v1/models")))
        {
            Assert.Equal(["clinical", "contracts", "demo", "demo-tools", "ledger"], models.RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()).Order());
        }

        using (var health = JsonDocument.Parse(await client.GetStringAsync("/healthz")))
        {
            Assert.Equal("ok", health.RootElement.GetProperty("status").GetString());
        }

        var metrics = await client.GetStringAsync("/metrics");
        Assert.Contains("sios_seals", metrics, StringComparison.Ordinal);

        var note = await client.GetByteArrayAsync("/log/checkpoint");
        var checkpoint = CheckpointVerifier.ForLogKeys(demo.Vkeys).Verify(note);
        Assert.True(checkpoint.Checkpoint.Size > 0);
        var tile = await client.GetAsync($"/log/tile/0/000.p/{Math.Min(checkpoint.Checkpoint.Size, 255)}");
        Assert.Equal(HttpStatusCode.OK, tile.StatusCode);
        Assert.Equal(Math.Min(checkpoint.Checkpoint.Size, 255) * 32, (await tile.Content.ReadAsByteArrayAsync()).Length);
        Assert.Contains("immutable", tile.Headers.CacheControl!.ToString(), StringComparison.Ordinal);
        var bundle = await client.GetAsync($"/log/tile/entries/000.p/{Math.Min(checkpoint.Checkpoint.Size, 255)}");
        Assert.Equal(HttpStatusCode.OK, bundle.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/log/tile/0/001")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/log/tile/0/x")).StatusCode);
    }

    private static double Ms(System.Text.RegularExpressions.Match match, int group) =>
        double.Parse(match.Groups[group].Value, System.Globalization.CultureInfo.InvariantCulture);
}
