using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Sios.EndToEnd;

/// <summary>
/// Runs a script of tests/interop (an unmodified npm client against the served demo, its exchanges recorded by
/// recording.mjs) and verifies every answer's receipt from the recorded bytes, whatever the door: receipt headers on a
/// whole answer; on a server-sent-event stream the <c>: sios</c> comment, covering every byte before it; on an NDJSON
/// stream (Ollama) the <c>sios</c> member of the last line, covering every line before it.
/// </summary>
internal static class NpmScripts
{
    /// <summary>Runs <paramref name="script"/> with the demo's URL, admin key and <paramref name="brain"/>; returns its report.</summary>
    public static async Task<JsonDocument> RunAsync(ServedDemo demo, string script, string brain = "demo-tools", IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = NpmClient.Folder! };
        info.ArgumentList.Add(script);
        info.Environment["SIOS_URL"] = demo.Url.ToString();
        info.Environment["SIOS_KEY"] = demo.AdminKey;
        info.Environment["SIOS_BRAIN"] = brain;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        Assert.True(process.ExitCode == 0, await stderr);
        return JsonDocument.Parse(await stdout);
    }

    /// <summary>Verifies the receipt of every POST exchange against its recorded bytes; returns their sealed entries in order.</summary>
    public static async Task<List<JsonElement>> VerifyExchangesAsync(ServedDemo demo, JsonDocument report)
    {
        var entries = new List<JsonElement>();
        foreach (var exchange in report.RootElement.GetProperty("exchanges").EnumerateArray().Where(e => e.GetProperty("method").GetString() == "POST"))
        {
            Assert.Equal(200, exchange.GetProperty("status").GetInt32());
            var request = Convert.FromBase64String(exchange.GetProperty("request").GetString()!);
            var body = Convert.FromBase64String(exchange.GetProperty("body").GetString()!);
            var headers = exchange.GetProperty("headers");
            var type = headers.GetProperty("content-type").GetString()!;
            if (type.StartsWith("text/event-stream", StringComparison.Ordinal))
            {
                var raw = Encoding.UTF8.GetString(body);
                var marker = raw.IndexOf("\n: sios ", StringComparison.Ordinal);
                Assert.True(marker >= 0, "the stream has no ': sios' receipt comment");
                using var comment = JsonDocument.Parse(raw[(marker + 1)..].Split('\n')[0][": sios ".Length..]);
                entries.Add(await VerifyAsync(demo, comment.RootElement, request, Encoding.UTF8.GetBytes(raw[..(marker + 1)])));
            }
            else if (type.StartsWith("application/x-ndjson", StringComparison.Ordinal))
            {
                var end = Array.LastIndexOf(body, (byte)'\n', body.Length - 2);
                using var last = JsonDocument.Parse(body.AsMemory(end + 1));
                entries.Add(await VerifyAsync(demo, last.RootElement.GetProperty("sios"), request, body[..(end + 1)]));
            }
            else
            {
                entries.Add(await Receipts.VerifyAsync(demo, long.Parse(headers.GetProperty("sios-log-index").GetString()!, System.Globalization.CultureInfo.InvariantCulture),
                    headers.GetProperty("sios-request-nonce").GetString()!, headers.GetProperty("sios-response-nonce").GetString()!, request, body));
            }
        }

        return entries;
    }

    private static Task<JsonElement> VerifyAsync(ServedDemo demo, JsonElement receipt, byte[] request, byte[] response) =>
        Receipts.VerifyAsync(demo, receipt.GetProperty("index").GetInt64(), receipt.GetProperty("request_nonce").GetString()!,
            receipt.GetProperty("response_nonce").GetString()!, request, response);
}
