using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Sios.Server.Hosting;

namespace Sios.Server.Tests.Gateway;

/// <summary>Browser access (CORS) for the listed origins only: preflights unauthenticated and unsealed, every answer readable.</summary>
public sealed class CorsTests
{
    private const string App = "http://app.example:3000";
    private const string Chat = """{"model":"tiny","messages":[{"role":"user","content":"Hello"}],"max_tokens":4}""";
    private const string Exposed = "Sios-Log-Index, Sios-Receipt, Sios-Request-Nonce, Sios-Response-Nonce, Sios-Begin-Index, Retry-After, Server-Timing";

    private static readonly string[] CorsHeaders =
    [
        "Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Max-Age",
        "Access-Control-Expose-Headers", "Access-Control-Allow-Credentials",
    ];

    [Fact]
    public async Task Cors_is_off_by_default_and_a_preflight_still_gets_a_plain_204_not_a_405()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        using var client = gateway.Client();
        using var answer = await client.SendAsync(Request(HttpMethod.Post, "/v1/chat/completions", App, Chat));
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        AssertNoCors(answer);
        Assert.False(answer.Headers.Contains("Vary"));

        using var preflight = await client.SendAsync(Preflight("/v1/chat/completions", App));
        Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
        AssertNoCors(preflight);
    }

    [Fact]
    public async Task A_preflight_from_a_listed_origin_is_answered_without_a_key_and_nothing_is_sealed()
    {
        await using var gateway = await InProcessGateway.StartAsync(corsOrigins: ["https://other.example", App]);
        using var client = new HttpClient { BaseAddress = gateway.Url };
        var size = await gateway.Log.Reader.GetStoredSizeAsync();
        // Also for a path that does not exist: the page must get past the preflight to read the 404.
        foreach (var path in new[] { "/v1/chat/completions", "/v1/messages", "/v1/nowhere" })
        {
            using var preflight = await client.SendAsync(Preflight(path, App));
            Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
            Assert.Equal(App, Header(preflight, "Access-Control-Allow-Origin"));
            Assert.Contains("Origin", preflight.Headers.Vary);
            Assert.Equal("GET, POST, DELETE, OPTIONS", Header(preflight, "Access-Control-Allow-Methods"));
            Assert.Equal("authorization, content-type, x-stainless-os, anthropic-dangerous-direct-browser-access", Header(preflight, "Access-Control-Allow-Headers"));
            Assert.Equal("600", Header(preflight, "Access-Control-Max-Age"));
            Assert.False(preflight.Headers.Contains("Access-Control-Allow-Credentials"));
        }

        Assert.Equal(size, await gateway.Log.Reader.GetStoredSizeAsync());
    }

    [Theory]
    [InlineData("https://evil.example")]
    [InlineData("http://app.example:3001")]
    [InlineData("https://app.example:3000")]
    [InlineData("null")]
    public async Task Any_other_origin_gets_no_cors_headers_on_its_preflight_or_its_answers(string origin)
    {
        await using var gateway = await InProcessGateway.StartAsync(corsOrigins: [App]);
        using var client = gateway.Client();
        using var preflight = await client.SendAsync(Preflight("/v1/chat/completions", origin));
        Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
        AssertNoCors(preflight);
        // What an answer is depends on the origin asking, so a shared cache must tell them apart.
        Assert.Contains("Origin", preflight.Headers.Vary);

        using var answer = await client.SendAsync(Request(HttpMethod.Post, "/v1/chat/completions", origin, Chat));
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        AssertNoCors(answer);
        Assert.Contains("Origin", answer.Headers.Vary);
    }

    [Fact]
    public async Task A_listed_origin_can_read_sealed_answers_streams_and_errors_with_their_headers()
    {
        await using var gateway = await InProcessGateway.StartAsync(corsOrigins: [App]);
        using var client = gateway.Client();
        using var sealedAnswer = await client.SendAsync(Request(HttpMethod.Post, "/v1/chat/completions", App, Chat));
        Assert.Equal(HttpStatusCode.OK, sealedAnswer.StatusCode);
        Assert.True(sealedAnswer.Headers.Contains("Sios-Log-Index"));
        AssertReadable(sealedAnswer);

        var streamed = Chat.Replace("\"max_tokens\":4", "\"max_tokens\":4,\"stream\":true", StringComparison.Ordinal);
        using var stream = await client.SendAsync(Request(HttpMethod.Post, "/v1/chat/completions", App, streamed), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
        Assert.True(stream.Headers.Contains("Sios-Begin-Index"));
        AssertReadable(stream);
        Assert.Contains("\n: sios ", await stream.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var unauthorised = Request(HttpMethod.Post, "/v1/chat/completions", App, Chat);
        unauthorised.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "sk-sios-wrong");
        using var refused = await client.SendAsync(unauthorised);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        AssertReadable(refused);

        using var missing = await client.SendAsync(Request(HttpMethod.Get, "/v1/nowhere", App));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        AssertReadable(missing);
        Assert.Contains("not_found", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("*", "wildcard")]
    [InlineData("https://*.example.com", "wildcard")]
    [InlineData("https://app.example.com/", "here 'https://app.example.com'")]
    [InlineData("https://app.example.com/path", "here 'https://app.example.com'")]
    [InlineData("https://App.Example.com", "here 'https://app.example.com'")]
    [InlineData("https://app.example.com:443", "here 'https://app.example.com'")]
    [InlineData("http://user@app.example.com", "here 'http://app.example.com'")]
    [InlineData("app.example.com", "not a web origin: write http:// or https://")]
    [InlineData("ftp://app.example.com", "not a web origin: write http:// or https://")]
    [InlineData("https://bücher.example", "in ASCII")]
    [InlineData("null", "not a web origin")]
    public void A_bad_origin_is_refused_with_the_form_to_write(string origin, string message)
    {
        var options = new SiosServerOptions { CorsOrigins = [origin] };
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{origin}'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://app.example.com")]
    [InlineData("http://127.0.0.1:5173")]
    [InlineData("http://[::1]:8000")]
    [InlineData("https://xn--bcher-kva.example")]
    public void An_origin_as_browsers_send_it_is_accepted(string origin) =>
        new SiosServerOptions { CorsOrigins = [origin] }.Validate();

    private static HttpRequestMessage Request(HttpMethod method, string path, string origin, string? json = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.TryAddWithoutValidation("Origin", origin);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        return request;
    }

    private static HttpRequestMessage Preflight(string path, string origin)
    {
        var request = Request(HttpMethod.Options, path, origin);
        request.Headers.TryAddWithoutValidation("Access-Control-Request-Method", "POST");
        request.Headers.TryAddWithoutValidation("Access-Control-Request-Headers", "authorization, content-type, x-stainless-os, anthropic-dangerous-direct-browser-access");
        return request;
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values) : null;

    private static void AssertReadable(HttpResponseMessage response)
    {
        Assert.Equal(App, Header(response, "Access-Control-Allow-Origin"));
        Assert.Equal(Exposed, Header(response, "Access-Control-Expose-Headers"));
        Assert.Contains("Origin", response.Headers.Vary);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Credentials"));
    }

    private static void AssertNoCors(HttpResponseMessage response) =>
        Assert.All(CorsHeaders, name => Assert.False(response.Headers.Contains(name), name));
}
