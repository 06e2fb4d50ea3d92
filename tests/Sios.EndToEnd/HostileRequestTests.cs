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

        var outOfScope = await PostAsync(key, Chat.Replace("clinical", "contracts", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.Forbidden, outOfScope.StatusCode);
        Assert.Equal("brain_not_in_scope", (await ErrorOf(outOfScope)).GetProperty("code").GetString());
        Assert.True(outOfScope.Headers.Contains("Sios-Log-Index"), "an authenticated refusal is sealed too");

        var revoked = await SiosCli.RunAsync("key", "revoke", "clinician", "--data", demo.Data);
        Assert.True(revoked.ExitCode == 0, revoked.Err);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(key, Chat)).StatusCode);
        Assert.DoesNotContain(key, demo.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(demo.AdminKey, demo.Stderr, StringComparison.Ordinal);
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
