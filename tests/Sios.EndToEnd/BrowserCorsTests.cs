using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Sios.EndToEnd;

/// <summary>
/// A real headless Chromium (tests/interop/browser-cors-e2e.mjs, driven by playwright-core) calling the served demo from
/// pages of two other origins, one of them given to <c>--cors-origin</c>, with fetch() and with the npm openai client:
/// the browser itself enforces CORS, so what the listed page reads and what the other page is refused is what a
/// browser app would get.
/// </summary>
public sealed class BrowserCorsTests
{
    [ChromiumFact]
    public async Task A_page_on_the_listed_origin_reads_answers_receipts_and_errors_and_a_page_elsewhere_is_blocked()
    {
        // Named before the gateway starts (it is the listed origin) and bound by the page server only later.
        var port = Sios.Tests.Shared.LoopbackPorts.Pick();
        var listed = $"http://127.0.0.1:{port}";
        var demo = new ServedDemo { ServeArgs = ["--cors-origin", listed] };
        await demo.InitializeAsync();
        try
        {
            using var report = await NpmScripts.RunAsync(demo, "browser-cors-e2e.mjs", "clinical", new Dictionary<string, string>
            {
                ["SIOS_PAGE_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["CHROMIUM"] = Chromium.Path!,
            });
            var results = report.RootElement.GetProperty("results");
            var console = report.RootElement.GetProperty("console").GetRawText();
            var page = results.GetProperty("listed");
            Assert.Equal(listed, page.GetProperty("origin").GetString());

            var chat = Readable(page, "chat", 200, console);
            Assert.Equal("chat.completion", chat.GetProperty("json").GetProperty("object").GetString());
            var headers = chat.GetProperty("headers");
            Assert.Matches("^[0-9]+$", headers.GetProperty("sios-log-index").GetString());
            Assert.Equal("/log/receipts/" + headers.GetProperty("sios-log-index").GetString(), headers.GetProperty("sios-receipt").GetString());
            Assert.Contains("seal", headers.GetProperty("server-timing").GetString(), StringComparison.Ordinal);

            var stream = Readable(page, "stream", 200, console);
            Assert.Matches("^[0-9]+$", stream.GetProperty("headers").GetProperty("sios-begin-index").GetString());
            Assert.Contains("\n: sios ", stream.GetProperty("text").GetString(), StringComparison.Ordinal);
            Assert.Equal("message", Readable(page, "messages", 200, console).GetProperty("json").GetProperty("type").GetString());
            Assert.Equal("invalid_api_key", Readable(page, "unauthorised", 401, console).GetProperty("json").GetProperty("error").GetProperty("code").GetString());
            Assert.Equal("not_found", Readable(page, "missing", 404, console).GetProperty("json").GetProperty("error").GetProperty("code").GetString());
            Readable(page, "simple", 200, console);
            var sdk = Readable(page, "sdk", 200, console);
            Assert.Equal("chat.completion", sdk.GetProperty("json").GetProperty("object").GetString());
            Assert.Matches("^[0-9]+$", sdk.GetProperty("headers").GetProperty("sios-log-index").GetString());
            // The SDKs' own headers went through the preflights the gateway answered.
            var sent = page.GetProperty("sent").EnumerateArray().Select(h => h.GetString()).ToList();
            Assert.Contains("x-stainless-os", sent);
            Assert.Contains("anthropic-dangerous-direct-browser-access", sent);

            // What the page read is exactly what was sealed: each receipt verifies against the bytes inside the browser.
            var entries = await NpmScripts.VerifyExchangesAsync(demo, report);
            Assert.Equal(3, entries.Count);

            var other = results.GetProperty("other");
            Assert.NotEqual(listed, other.GetProperty("origin").GetString());
            foreach (var call in other.EnumerateObject().Where(c => c.Name is not "origin" and not "sent"))
            {
                Assert.True(call.Value.TryGetProperty("rejected", out _), $"the unlisted origin's page read '{call.Name}': {call.Value.GetRawText()}");
            }

            Assert.Contains("blocked by CORS policy", console, StringComparison.Ordinal);
        }
        finally
        {
            await demo.DisposeAsync();
        }
    }

    private static JsonElement Readable(JsonElement page, string call, int status, string console)
    {
        var result = page.GetProperty(call);
        Assert.False(result.TryGetProperty("rejected", out _), $"the listed origin's page could not read '{call}': {result.GetRawText()} {console}");
        Assert.Equal(status, result.GetProperty("status").GetInt32());
        return result;
    }

}

/// <summary>Skips, saying why, where there is no system Chromium or no node with tests/interop's packages (playwright-core).</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (NpmClient.Folder is null)
        {
            Skip = "node or a package of tests/interop/package.json (playwright-core) is missing: run 'npm install' in tests/interop (.ci/run does)";
        }
        else if (Chromium.Path is null)
        {
            Skip = "no chromium on PATH: install Debian's 'chromium' package (.ci/run does); a browser is never downloaded";
        }
    }
}

/// <summary>The system's Chromium, as Debian installs it.</summary>
internal static class Chromium
{
    public static string? Path { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(System.IO.Path.PathSeparator)
        .SelectMany(dir => new[] { "chromium", "chromium-browser" }.Select(name => System.IO.Path.Combine(dir, name)))
        .FirstOrDefault(File.Exists);
}
