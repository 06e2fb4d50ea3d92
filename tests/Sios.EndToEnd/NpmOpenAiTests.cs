using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Sios.EndToEnd;

/// <summary>
/// The official npm <c>openai</c> client (tests/interop/openai-e2e.mjs, run by node) against the real server: chat,
/// a stream, models, embeddings and JSON mode, every answer's receipt then verified here from the recorded bytes.
/// </summary>
public sealed class NpmOpenAiTests(ServedDemo demo) : IClassFixture<ServedDemo>
{
    [NpmFact]
    public async Task The_npm_openai_client_works_unmodified_and_every_answer_verifies()
    {
        var info = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = NpmClient.Folder! };
        info.ArgumentList.Add("openai-e2e.mjs");
        info.Environment["SIOS_URL"] = demo.Url.ToString();
        info.Environment["SIOS_KEY"] = demo.AdminKey;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, await stderr);

        using var report = JsonDocument.Parse(await stdout);
        var results = report.RootElement.GetProperty("results");
        Assert.Equal(["clinical", "contracts", "demo", "ledger"], results.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(64, results.GetProperty("embedding").GetProperty("length").GetInt32());
        Assert.True(results.GetProperty("stream").GetProperty("completion_tokens").GetInt32() > 0);

        var verified = 0;
        foreach (var exchange in report.RootElement.GetProperty("exchanges").EnumerateArray().Where(e => e.GetProperty("method").GetString() == "POST"))
        {
            Assert.Equal(200, exchange.GetProperty("status").GetInt32());
            var request = Convert.FromBase64String(exchange.GetProperty("request").GetString()!);
            var body = Convert.FromBase64String(exchange.GetProperty("body").GetString()!);
            var headers = exchange.GetProperty("headers");
            if (headers.GetProperty("content-type").GetString()!.StartsWith("text/event-stream", StringComparison.Ordinal))
            {
                var raw = Encoding.UTF8.GetString(body);
                var marker = raw.IndexOf("\n: sios ", StringComparison.Ordinal);
                using var comment = JsonDocument.Parse(raw[(marker + 1)..].Split('\n')[0][": sios ".Length..]);
                await Receipts.VerifyAsync(demo, comment.RootElement.GetProperty("index").GetInt64(),
                    comment.RootElement.GetProperty("request_nonce").GetString()!, comment.RootElement.GetProperty("response_nonce").GetString()!,
                    request, Encoding.UTF8.GetBytes(raw[..(marker + 1)]));
            }
            else
            {
                await Receipts.VerifyAsync(demo, long.Parse(headers.GetProperty("sios-log-index").GetString()!, System.Globalization.CultureInfo.InvariantCulture),
                    headers.GetProperty("sios-request-nonce").GetString()!, headers.GetProperty("sios-response-nonce").GetString()!, request, body);
            }

            verified++;
        }

        Assert.Equal(4, verified);
    }
}

/// <summary>Runs only where node and tests/interop/node_modules/openai are installed (.ci/run installs them).</summary>
public sealed class NpmFactAttribute : FactAttribute
{
    public NpmFactAttribute()
    {
        if (NpmClient.Folder is null)
        {
            Skip = "node or tests/interop/node_modules/openai is missing: run 'npm install' in tests/interop (.ci/run does)";
        }
    }
}

internal static class NpmClient
{
    public static string? Folder { get; } = Find();

    private static string? Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Sios.sln")))
            {
                var folder = Path.Combine(dir.FullName, "tests", "interop");
                var installed = Directory.Exists(Path.Combine(folder, "node_modules", "openai"));
                var node = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Any(p => File.Exists(Path.Combine(p, "node")));
                return installed && node ? folder : null;
            }
        }

        return null;
    }
}
