using System.Diagnostics;
using System.Globalization;

namespace Sios.EndToEnd;

/// <summary>The README's first command: <c>sios demo</c> sets up, serves, and its printed curl line gets an answer whose receipt <c>sios verify receipt</c> accepts.</summary>
public sealed class DemoServesTests
{
    [Fact]
    public async Task The_demo_serves_and_a_curl_answer_carries_a_receipt_that_sios_verifies()
    {
        var root = Directory.CreateTempSubdirectory("sios-demo-e2e-").FullName;
        var dir = Path.Combine(root, "sios-demo");
        var info = SiosCli.StartInfo(["demo", "--data", dir, "--urls", "http://127.0.0.1:0"]);
        info.Environment.Remove("SIOS_KEY_PASSPHRASE");
        using var demo = Process.Start(info)!;
        var stderr = demo.StandardError.ReadToEndAsync();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            var url = (await demo.StandardOutput.ReadLineAsync(timeout.Token))?.Trim();
            Assert.True(url is not null, "the demo did not serve");
            var key = (await File.ReadAllTextAsync(Path.Combine(dir, "demo-api-key.txt"))).Trim();

            var headers = Path.Combine(root, "headers.txt");
            var (status, _) = await CurlAsync(["-sS", "-D", headers, "-o", Path.Combine(root, "answer.json"), $"{url}/v1/chat/completions",
                "-H", $"Authorization: Bearer {key}", "-H", "Content-Type: application/json",
                "-d", """{"model":"clinical","messages":[{"role":"user","content":"Hello"}],"max_tokens":16}"""]);
            Assert.Equal(0, status);
            var index = File.ReadAllLines(headers).Single(l => l.StartsWith("Sios-Log-Index:", StringComparison.OrdinalIgnoreCase)).Split(':')[1].Trim();
            var receipt = Path.Combine(root, "answer.tlog-proof");
            Assert.Equal(0, (await CurlAsync(["-sS", "-f", "-o", receipt, $"{url}/log/receipts/{index}", "-H", $"Authorization: Bearer {key}"])).ExitCode);

            var vkeys = (await SiosCli.RunAsync("key", "vkeys", "--data", dir)).Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var verified = await SiosCli.RunAsync(["verify", "receipt", receipt, .. vkeys.SelectMany(v => new[] { "--vkey", v })]);
            Assert.True(verified.ExitCode == 0, verified.Err);
            Assert.Contains("\"type\":\"inference\"", verified.Out, StringComparison.Ordinal);
            Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"entry {index}"), verified.Err, StringComparison.Ordinal);
        }
        finally
        {
            using (var kill = Process.Start("kill", ["-TERM", demo.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            await demo.WaitForExitAsync();
            Assert.Contains("curl", await stderr, StringComparison.Ordinal);
            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task<(int ExitCode, string Output)> CurlAsync(string[] args)
    {
        var info = new ProcessStartInfo("curl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output);
    }
}
