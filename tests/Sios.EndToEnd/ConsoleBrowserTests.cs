using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Sios.EndToEnd;

/// <summary>
/// The console in Debian's headless Chromium against a real <c>sios serve</c>: a key entered once, the server's keys
/// taken (and marked as the server's word), the latest checkpoint's signatures verified in the page, the record read
/// from the entry bundles with an answer's inclusion checked in the page, a genuine receipt
/// accepted and a tampered one rejected naming the check that failed, a receipt of another log, checked with that
/// log's pasted vkeys, whose entry carries markup that renders as inert text, and the answer's disclosure accepted while
/// a copy with one byte of its response changed is rejected at the response commitment; a user key is kept out of the
/// log but opens and verifies the receipt of its own answer, and is refused another's.
/// </summary>
public sealed class ConsoleBrowserTests : IAsyncLifetime
{
    private readonly ServedDemo _demo = new();
    private readonly string _work = Path.Combine(Path.GetTempPath(), "sios-console-" + Guid.NewGuid().ToString("N"));

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_work);
        await _demo.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await _demo.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }

    [ConsoleFact]
    public async Task The_console_is_served_with_a_policy_that_runs_no_inline_script()
    {
        using var client = new HttpClient { BaseAddress = _demo.Url };
        using var page = await client.GetAsync("/console/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var policy = string.Join(";", page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", policy, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
        Assert.Equal("nosniff", page.Headers.GetValues("X-Content-Type-Options").Single());
        var html = await page.Content.ReadAsStringAsync();
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("http://", html, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/console/api-keys.json")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/console/..%2Fsios.json")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/log/vkeys")).StatusCode);
    }

    [ConsoleFact(browser: true)]
    public async Task A_regulators_browser_verifies_the_checkpoint_and_receipts_and_renders_entries_as_text()
    {
        using var client = _demo.Client();
        using var answer = await client.PostAsync("/v1/chat/completions", new StringContent(
            """{"model":"demo","max_tokens":2,"messages":[{"role":"user","content":"hello console"}]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var index = long.Parse(answer.Headers.GetValues("Sios-Log-Index").Single(), CultureInfo.InvariantCulture);
        var receipt = await client.GetByteArrayAsync($"/log/receipts/{index}");
        var good = await WriteAsync("good.tlog-proof", receipt);
        var text = Encoding.UTF8.GetString(receipt);
        var tampered = await WriteAsync("tampered.tlog-proof", Encoding.UTF8.GetBytes(text.Replace($"\nindex {index}\n", $"\nindex {index + 1}\n", StringComparison.Ordinal)));

        // Another log, whose operator note carries markup: checked with that log's vkeys, pasted into the page.
        var foreign = Path.Combine(_work, "foreign");
        var init = await SiosCli.RunAsync("init", "--origin", "foreign.sios.local/log", "--data", foreign);
        Assert.True(init.ExitCode == 0, init.Err);
        var note = await SiosCli.RunAsync("log", "note", "<script>window.__sios_xss=1</script><img src=x onerror=\"window.__sios_xss=2\">", "--data", foreign);
        Assert.True(note.ExitCode == 0, note.Err);
        var foreignReceipt = await SiosCli.RunAsync("log", "receipt", note.Out.Trim(), "--data", foreign);
        var foreignFile = await WriteAsync("foreign.tlog-proof", Encoding.UTF8.GetBytes(foreignReceipt.Out));

        // The answer's disclosure, and a copy whose response was altered by one byte.
        var disclosure = Path.Combine(_work, "disclosure");
        var disclosed = await SiosCli.RunAsync("log", "disclose", index.ToString(CultureInfo.InvariantCulture), "--out", disclosure, "--data", _demo.Data);
        Assert.True(disclosed.ExitCode == 0, disclosed.Err);
        var altered = Path.Combine(_work, "altered");
        Directory.CreateDirectory(altered);
        foreach (var file in Directory.GetFiles(disclosure))
        {
            File.Copy(file, Path.Combine(altered, Path.GetFileName(file)));
        }

        var response = await File.ReadAllBytesAsync(Path.Combine(altered, "response.bin"));
        response[^2] ^= 0x01;
        await File.WriteAllBytesAsync(Path.Combine(altered, "response.bin"), response);

        // A user key, and one answer of its own.
        var viewer = await SiosCli.RunAsync("key", "create", "console-viewer", "--role", "user", "--brains", "*", "--data", _demo.Data);
        Assert.True(viewer.ExitCode == 0, viewer.Err);
        using var userClient = _demo.Client(viewer.Out.Trim());
        using var own = await userClient.PostAsync("/v1/chat/completions", new StringContent(
            """{"model":"demo","max_tokens":2,"messages":[{"role":"user","content":"mine"}]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);

        var report = await NpmScripts.RunAsync(_demo, "console-e2e.mjs", environment: new Dictionary<string, string>
        {
            ["CHROMIUM"] = Chromium.Path!,
            ["RECEIPT_GOOD"] = good,
            ["RECEIPT_TAMPERED"] = tampered,
            ["FOREIGN_RECEIPT"] = foreignFile,
            ["FOREIGN_VKEYS"] = init.Out,
            ["RECORD_INDEX"] = index.ToString(CultureInfo.InvariantCulture),
            ["ATTESTATION"] = Directory.GetFiles(Path.Combine(_demo.Data, "attestations"), "*.attestation").Order(StringComparer.Ordinal).Last(),
            ["USER_KEY"] = viewer.Out.Trim(),
            ["USER_INDEX"] = own.Headers.GetValues("Sios-Log-Index").Single(),
            ["LOG_VKEYS"] = string.Join('\n', _demo.Vkeys.Select(k => k.ToString())),
            ["DISCLOSURE_FILES"] = string.Join('\n', Directory.GetFiles(disclosure)),
            ["DISCLOSURE_ALTERED"] = string.Join('\n', Directory.GetFiles(altered)),
        });
        var root = report.RootElement;

        var checkpoint = root.GetProperty("checkpoint");
        Assert.Equal("true", checkpoint.GetProperty("ok").GetString());
        var checks = checkpoint.GetProperty("checks").EnumerateArray().ToList();
        Assert.Contains(checks, c => c.GetProperty("ok").GetBoolean() && c.GetProperty("text").GetString()!.StartsWith("ML-DSA-65 signature by demo.sios.local/log+", StringComparison.Ordinal));
        Assert.Contains(checks, c => c.GetProperty("ok").GetBoolean() && c.GetProperty("text").GetString()!.StartsWith("ML-DSA-44 cosignature by demo.sios.local/log+", StringComparison.Ordinal));
        Assert.Equal("demo.sios.local/log", checkpoint.GetProperty("origin").GetString());
        Assert.Contains("this server offered", checkpoint.GetProperty("trust").GetString(), StringComparison.Ordinal);

        // The record from the tiles: filtered to answers, the answer opened, its inclusion checked against the very bytes
        // its entry bundle holds.
        var record = root.GetProperty("record");
        Assert.NotEmpty(record.GetProperty("inferenceRows").EnumerateArray());
        Assert.All(record.GetProperty("inferenceRows").EnumerateArray(), row => Assert.Contains(" inference ", row.GetString(), StringComparison.Ordinal));
        Assert.Equal("true", record.GetProperty("ok").GetString());
        Assert.Contains(record.GetProperty("checks").EnumerateArray(), c => c.GetProperty("name").GetString() == "entry inclusion" && c.GetProperty("ok").GetBoolean());
        Assert.Contains(record.GetProperty("checks").EnumerateArray(), c => c.GetProperty("name").GetString() == "same entry as the tiles" && c.GetProperty("ok").GetBoolean());
        Assert.Contains("\"type\": \"inference\"", record.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains(record.GetProperty("links").EnumerateArray(), l => l.GetString()!.StartsWith("the load of brain demo: #", StringComparison.Ordinal));
        Assert.Contains("\"type\": \"brain.loaded\"", record.GetProperty("loaded").GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("true", record.GetProperty("loaded").GetProperty("ok").GetString());
        Assert.NotEmpty(record.GetProperty("brainRows").EnumerateArray());

        Assert.Equal("true", root.GetProperty("good").GetProperty("ok").GetString());
        Assert.Contains("\"type\": \"inference\"", root.GetProperty("good").GetProperty("entry").GetString(), StringComparison.Ordinal);
        var rejected = root.GetProperty("tampered");
        Assert.Equal("false", rejected.GetProperty("ok").GetString());
        Assert.Equal(["entry inclusion"], rejected.GetProperty("failed").EnumerateArray().Select(f => f.GetString()));
        Assert.Contains("rejected (entry inclusion", rejected.GetProperty("verdict").GetString(), StringComparison.Ordinal);

        Assert.Equal("true", root.GetProperty("attestation").GetProperty("ok").GetString());
        Assert.Contains("a valid attestation, statement sha256:", root.GetProperty("attestation").GetProperty("verdict").GetString(), StringComparison.Ordinal);
        Assert.Contains("sios-attestation/v1", root.GetProperty("attestation").GetProperty("entry").GetString(), StringComparison.Ordinal);

        var inert = root.GetProperty("foreign");
        Assert.Equal("true", inert.GetProperty("ok").GetString());
        Assert.Contains("<script>window.__sios_xss=1</script>", inert.GetProperty("entry").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, inert.GetProperty("scripts").GetInt32());
        Assert.Equal(0, inert.GetProperty("images").GetInt32());
        Assert.Equal(JsonValueKind.Null, inert.GetProperty("xss").ValueKind);
        Assert.Empty(root.GetProperty("dialogs").EnumerateArray());
        Assert.Empty(root.GetProperty("errors").EnumerateArray());

        Assert.Equal("true", root.GetProperty("disclosure").GetProperty("ok").GetString());
        Assert.Contains($"answer {index}", root.GetProperty("disclosure").GetProperty("verdict").GetString(), StringComparison.Ordinal);
        Assert.Equal("false", root.GetProperty("disclosureAltered").GetProperty("ok").GetString());
        Assert.Equal(["response commitment"], root.GetProperty("disclosureAltered").GetProperty("failed").EnumerateArray().Select(f => f.GetString()));

        var user = root.GetProperty("user");
        Assert.Contains("403", user.GetProperty("checkpoint").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, user.GetProperty("records").GetInt32());
        Assert.Equal("true", user.GetProperty("own").GetProperty("ok").GetString());
        Assert.Equal("false", user.GetProperty("other").GetProperty("ok").GetString());
        Assert.Contains("only the receipts of its own answers", user.GetProperty("other").GetProperty("verdict").GetString(), StringComparison.Ordinal);

        Assert.Equal("A key is in use in this tab.", root.GetProperty("afterReload").GetString());
        Assert.Equal("No key yet.", root.GetProperty("otherTab").GetString());
    }

    private async Task<string> WriteAsync(string name, byte[] bytes)
    {
        var path = Path.Combine(_work, name);
        await File.WriteAllBytesAsync(path, bytes);
        return path;
    }
}

/// <summary>
/// Skips, saying why, where the server was built without its console (web/console's npm packages absent) or, for a
/// browser test, where there is no system Chromium or no playwright-core.
/// </summary>
public sealed class ConsoleFactAttribute : FactAttribute
{
    private static readonly string? Missing = Find();

    /// <summary>A console test; with <paramref name="browser"/>, one that drives Chromium too.</summary>
    public ConsoleFactAttribute(bool browser = false)
    {
        Skip = Missing ?? (browser ? new ChromiumFactAttribute().Skip : null);
    }

    private static string? Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Sios.sln")))
            {
                return Directory.Exists(Path.Combine(dir.FullName, "web", "console", "node_modules", "esbuild"))
                    ? null
                    : "the server is built without its console: run 'npm install' in web/console before building (.ci/run does)";
            }
        }

        return "the repository's root (Sios.sln) was not found above the test assembly";
    }
}
