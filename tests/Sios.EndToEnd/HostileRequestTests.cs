using System.Net;
using System.Text;
using System.Text.Json;

namespace Sios.EndToEnd;

/// <summary>Keys, scopes and malformed requests: each refusal a clear 4xx in OpenAI's error shape, the server serving on.</summary>
public sealed class HostileRequestTests(ServedDemo demo) : IClassFixture<ServedDemo>
{
    private const string Chat = """{"model":"clinical","messages":[{"role":"user","content":"Hello"}],"max_tokens":4}""";

    private static async Task<JsonElement> ErrorOf(HttpResponseMessage response)
    {
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = doc.RootElement.GetProperty("error").Clone();
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.False(string.IsNullOrEmpty(error.GetProperty("type").GetString()));
        return error;
    }

    private async Task<HttpResponseMessage> PostAsync(string? key, string body, string path = "/v1/chat/completions", string type = "application/json")
    {
        using var client = demo.Client(key);
        return await client.PostAsync(path, new ByteArrayContent(Encoding.UTF8.GetBytes(body)) { Headers = { ContentType = new(type) } });
    }

    [Fact]
    public async Task Keys_are_checked_scoped_and_revoked_at_once_on_the_running_server()
    {
        using (var anonymous = new HttpClient { BaseAddress = demo.Url })
        {
            var none = await anonymous.PostAsync("/v1/chat/completions", new StringContent(Chat, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
            Assert.Equal("invalid_api_key", (await ErrorOf(none)).GetProperty("code").GetString());
            Assert.False(none.Headers.Contains("Sios-Log-Index"));
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync("sios-000000000000-AAAA", Chat)).StatusCode);
        var forged = demo.AdminKey[..^2] + (demo.AdminKey[^2] == 'A' ? "BB" : "AA");
        var badSecret = await PostAsync(forged, Chat);
        var unknownId = await PostAsync("sios-ffffffffffff-" + demo.AdminKey[^43..], Chat);
        Assert.Equal(HttpStatusCode.Unauthorized, badSecret.StatusCode);
        Assert.Equal((await ErrorOf(badSecret)).GetProperty("message").GetString(), (await ErrorOf(unknownId)).GetProperty("message").GetString());

        // A user key for one brain, made while the server runs (through its control socket).
        var created = await SiosCli.RunAsync("key", "create", "clinician", "--brains", "clinical", "--data", demo.Data);
        Assert.True(created.ExitCode == 0, created.Err);
        var key = created.Out.Trim();
        Assert.DoesNotContain('\n', key);

        var ok = await PostAsync(key, Chat);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var index = Receipts.Header(ok.Headers, "Sios-Log-Index");
        using (var own = demo.Client(key))
        {
            Assert.Equal(HttpStatusCode.OK, (await own.GetAsync($"/log/receipts/{index}")).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await own.GetAsync("/log/receipts/0")).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await own.GetAsync("/log/checkpoint")).StatusCode);
            using var models = JsonDocument.Parse(await own.GetStringAsync("/v1/models"));
            Assert.Equal(["clinical"], models.RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()));
        }

        // A brain outside the key's scope reads exactly as one that does not exist: same status, error object and
        // headers, so a key cannot learn the names of brains it was never given.
        var bodies = new[]
        {
            ("/v1/chat/completions", Chat),
            ("/v1/completions", """{"model":"clinical","prompt":"Hello","max_tokens":2}"""),
            ("/v1/embeddings", """{"model":"clinical","input":"Hello"}"""),
        };
        foreach (var (path, body) in bodies)
        {
            var outOfScope = await PostAsync(key, body.Replace("clinical", "contracts", StringComparison.Ordinal), path);
            var missing = await PostAsync(key, body.Replace("clinical", "no-such-brain", StringComparison.Ordinal), path);
            await AssertSameNotFoundAsync(outOfScope, missing, "contracts", "no-such-brain");
            Assert.True(outOfScope.Headers.Contains("Sios-Log-Index"), "an authenticated refusal is sealed too");
        }

        using (var own = demo.Client(key))
        {
            await AssertSameNotFoundAsync(await own.GetAsync("/v1/models/contracts"), await own.GetAsync("/v1/models/no-such-brain"), "contracts", "no-such-brain");
        }

        var revoked = await SiosCli.RunAsync("key", "revoke", "clinician", "--data", demo.Data);
        Assert.True(revoked.ExitCode == 0, revoked.Err);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(key, Chat)).StatusCode);
        Assert.DoesNotContain(key, demo.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(demo.AdminKey, demo.Stderr, StringComparison.Ordinal);
    }

    private static async Task AssertSameNotFoundAsync(HttpResponseMessage outOfScope, HttpResponseMessage missing, string hidden, string absent)
    {
        Assert.Equal(HttpStatusCode.NotFound, outOfScope.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        var (hiddenError, absentError) = (await ErrorOf(outOfScope), await ErrorOf(missing));
        Assert.Equal($"The model `{hidden}` does not exist or you do not have access to it.", hiddenError.GetProperty("message").GetString());
        Assert.Equal(hiddenError.GetRawText().Replace(hidden, absent, StringComparison.Ordinal), absentError.GetRawText());
        Assert.Equal("model_not_found", hiddenError.GetProperty("code").GetString());
        static string[] Names(HttpResponseMessage r) => [.. r.Headers.Concat(r.Content.Headers).Select(h => h.Key).Order(StringComparer.OrdinalIgnoreCase)];
        Assert.Equal(Names(outOfScope), Names(missing));
        Assert.Equal(outOfScope.Content.Headers.ContentLength - hidden.Length, missing.Content.Headers.ContentLength - absent.Length);
    }

    public static TheoryData<string, string, int> Unparseable => new()
    {
        { "a garbage request line", "GARBAGE\r\n\r\n", 400 },
        { "a header without a colon", "GET /healthz HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n", 400 },
        { "no Host header", "GET /healthz HTTP/1.1\r\n\r\n", 400 },
        { "a 20 KB URL", "GET /" + new string('a', 20_000) + " HTTP/1.1\r\nHost: x\r\n\r\n", 414 },
        { "40 KB of headers", "GET /healthz HTTP/1.1\r\nHost: x\r\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"X-Pad-{i}: {new string('v', 1000)}\r\n")) + "\r\n", 431 },
        { "HTTP/2.5", "GET /healthz HTTP/2.5\r\nHost: x\r\n\r\n", 505 },
        { "a chunk size that overflows", "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer KEY\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nabc\r\n0\r\n\r\n", 400 },
        { "a chunk size that is not hex", "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer KEY\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400 },
    };

    [Theory]
    [MemberData(nameof(Unparseable))]
    public async Task What_kestrel_refuses_gets_the_error_object_too_and_the_server_serves_on(string what, string request, int status)
    {
        await using var connection = await SendRawAsync(request.Replace("KEY", demo.AdminKey, StringComparison.Ordinal));
        var (code, headers, body) = await ReadResponseAsync(connection);
        Assert.True(status == code, $"{what}: {code} {headers} {body}");
        Assert.Contains("\r\nContent-Type: application/json", headers, StringComparison.OrdinalIgnoreCase);
        using (var doc = JsonDocument.Parse(body))
        {
            var error = doc.RootElement.GetProperty("error");
            Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()), what);
            Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
            Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
            Assert.Equal(JsonValueKind.String, error.GetProperty("code").ValueKind);
        }

        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", demo.Stderr, StringComparison.Ordinal);
        using var client = demo.Client();
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/chat/completions", new StringContent(Chat, Encoding.UTF8, "application/json"))).StatusCode);
    }

    [Fact]
    public async Task A_refusal_after_a_good_request_on_the_same_connection_gets_the_error_object_and_the_answer_stays_whole()
    {
        await using var connection = await SendRawAsync("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n");
        var first = await ReadResponseAsync(connection);
        Assert.Equal(200, first.Status);
        Assert.DoesNotContain("error", first.Body, StringComparison.Ordinal);
        var refusal = await ReadResponseAsync(connection);
        Assert.Equal(400, refusal.Status);
        Assert.Contains("\r\nContent-Type: application/json", refusal.Headers, StringComparison.OrdinalIgnoreCase);
        using var doc = JsonDocument.Parse(refusal.Body);
        Assert.Equal("bad_request", doc.RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    /// <summary>Sends <paramref name="request"/> as raw bytes on a fresh connection to the server.</summary>
    private async Task<Stream> SendRawAsync(string request)
    {
        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, demo.Url.Port);
        var stream = new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        return stream;
    }

    /// <summary>One HTTP/1.1 response with a Content-Length body, read byte by byte so the next one stays in the stream.</summary>
    private static async Task<(int Status, string Headers, string Body)> ReadResponseAsync(Stream stream)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            Assert.True(await stream.ReadAsync(one, timeout.Token) == 1, $"the connection closed before the headers ended: {head}");
            head.Append((char)one[0]);
        }

        var headers = head.ToString();
        var length = System.Text.RegularExpressions.Regex.Match(headers, @"\r\nContent-Length: (\d+)", System.Text.RegularExpressions.RegexOptions.IgnoreCase);
        Assert.True(length.Success, headers);
        var body = new byte[int.Parse(length.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)];
        await stream.ReadExactlyAsync(body, timeout.Token);
        return (int.Parse(headers.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture), headers, Encoding.UTF8.GetString(body));
    }

    [Fact]
    public async Task A_key_over_its_requests_per_minute_gets_429_with_retry_after_and_is_not_sealed_each_time()
    {
        var created = await SiosCli.RunAsync("key", "create", "metered", "--brains", "*", "--rpm", "2", "--data", demo.Data);
        Assert.True(created.ExitCode == 0, created.Err);
        var key = created.Out.Trim();
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(key, Chat)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(key, Chat)).StatusCode);
        var limited = await PostAsync(key, Chat);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.True(limited.Headers.RetryAfter?.Delta is { TotalSeconds: >= 1 and <= 30 }, limited.Headers.RetryAfter?.ToString());
        Assert.Equal("rate_limit_exceeded", (await ErrorOf(limited)).GetProperty("code").GetString());
        Assert.False(limited.Headers.Contains("Sios-Log-Index"));
        using var admin = demo.Client();
        Assert.Contains("sios_rate_limited", await admin.GetStringAsync("/metrics"), StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string, int> Malformed => new()
    {
        { "truncated JSON", "/v1/chat/completions", """{"model":"clinical","messages":[""", 400 },
        { "not an object", "/v1/chat/completions", "[1,2,3]", 400 },
        { "empty body", "/v1/chat/completions", "", 400 },
        { "model of the wrong type", "/v1/chat/completions", """{"model":7,"messages":[{"role":"user","content":"x"}]}""", 400 },
        { "messages not an array", "/v1/chat/completions", """{"model":"clinical","messages":"hi"}""", 400 },
        { "no messages", "/v1/chat/completions", """{"model":"clinical","messages":[]}""", 400 },
        { "unknown role", "/v1/chat/completions", """{"model":"clinical","messages":[{"role":"wizard","content":"x"}]}""", 400 },
        { "negative max_tokens", "/v1/chat/completions", """{"model":"clinical","messages":[{"role":"user","content":"x"}],"max_tokens":-1}""", 400 },
        { "max_tokens as text", "/v1/chat/completions", """{"model":"clinical","messages":[{"role":"user","content":"x"}],"max_tokens":"10"}""", 400 },
        { "temperature out of range", "/v1/chat/completions", """{"model":"clinical","messages":[{"role":"user","content":"x"}],"temperature":9}""", 400 },
        { "several choices", "/v1/chat/completions", """{"model":"clinical","messages":[{"role":"user","content":"x"}],"n":2}""", 400 },
        { "tools", "/v1/chat/completions", """{"model":"clinical","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function"}]}""", 400 },
        { "bad response_format", "/v1/chat/completions", """{"model":"clinical","messages":[{"role":"user","content":"x"}],"response_format":{"type":"yaml"}}""", 400 },
        { "unknown model", "/v1/chat/completions", """{"model":"nobody","messages":[{"role":"user","content":"x"}]}""", 404 },
        { "deep nesting", "/v1/chat/completions", new string('[', 5000) + new string(']', 5000), 400 },
        { "prompt missing", "/v1/completions", """{"model":"demo"}""", 400 },
        { "token-array input", "/v1/embeddings", """{"model":"demo","input":[[1,2,3]]}""", 400 },
        { "empty input", "/v1/embeddings", """{"model":"demo","input":[""]}""", 400 },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task A_malformed_request_gets_a_clear_4xx_that_is_sealed(string what, string path, string body, int status)
    {
        var response = await PostAsync(null, body, path);
        Assert.True(status == (int)response.StatusCode, $"{what}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        await ErrorOf(response);
        Assert.True(response.Headers.Contains("Sios-Log-Index"), $"{what}: an authenticated request is sealed even when refused");
    }

    [Fact]
    public async Task Bodies_that_are_too_big_not_json_or_not_utf8_are_refused_and_the_server_serves_on()
    {
        // A client that announces a big body (as curl does, with Expect: 100-continue) is told 413 before sending it.
        var huge = "{\"model\":\"clinical\",\"messages\":[{\"role\":\"user\",\"content\":\"" + new string('a', 10 << 20) + "\"}]}";
        using (var client = demo.Client())
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(huge, Encoding.UTF8, "application/json") };
            request.Headers.ExpectContinue = true;
            var tooLarge = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
            Assert.Equal("request_too_large", (await ErrorOf(tooLarge)).GetProperty("code").GetString());
        }

        // One that just sends it gets the 413 or, if still sending when the server closes, a closed connection.
        try
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await PostAsync(null, huge)).StatusCode);
        }
        catch (HttpRequestException)
        {
        }

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await PostAsync(null, Chat, type: "text/plain")).StatusCode);
        using (var client = demo.Client())
        {
            var invalidUtf8 = new ByteArrayContent([.. "{\"model\":\"clinical\",\"messages\":[{\"role\":\"user\",\"content\":\""u8, 0xC3, 0x28, .. "\"}]}"u8]);
            invalidUtf8.Headers.ContentType = new("application/json");
            Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/v1/chat/completions", invalidUtf8)).StatusCode);
            Assert.Equal(HttpStatusCode.MethodNotAllowed, (await client.GetAsync("/v1/chat/completions")).StatusCode);
            var missing = await client.GetAsync("/v2/anything");
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            await ErrorOf(missing);
            Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync("/control/keys", new StringContent("{}", Encoding.UTF8, "application/json"))).StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await PostAsync(null, Chat)).StatusCode);
    }
}
