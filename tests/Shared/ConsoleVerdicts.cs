using System.Diagnostics;
using System.Text.Json;
using Xunit;

namespace Sios.Tests.Shared;

/// <summary>
/// Runs one of the console verifier's node scripts (web/console/test) over files or folders and reads its verdicts:
/// one JSON line each, <c>{"file":…,"ok":…,"failed":[…]}</c>, for the cross-checks against Sios.Verify.
/// </summary>
internal static class ConsoleVerdicts
{
    /// <summary>The verdict on each of <paramref name="inputs"/> by <paramref name="script"/> run in <paramref name="folder"/> with the vkeys file <paramref name="vkeys"/>.</summary>
    public static async Task<Dictionary<string, (bool Ok, string Failed)>> RunAsync(string folder, string script, string vkeys, IReadOnlyCollection<string> inputs)
    {
        var stdout = await RunScriptAsync(folder, [script, vkeys, .. inputs]);
        var verdicts = new Dictionary<string, (bool, string)>(StringComparer.Ordinal);
        foreach (var line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            verdicts[root.GetProperty("file").GetString()!] = (root.GetProperty("ok").GetBoolean(), string.Join("; ", root.GetProperty("failed").EnumerateArray().Select(f => f.GetString())));
        }

        Assert.Equal(inputs.Count, verdicts.Count);
        return verdicts;
    }

    /// <summary>Runs node with <paramref name="arguments"/> in <paramref name="folder"/> under a watchdog; asserts it exits 0 and returns its stdout.</summary>
    public static async Task<string> RunScriptAsync(string folder, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = folder };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        using var watchdog = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var stdout = process.StandardOutput.ReadToEndAsync(watchdog.Token);
        var stderr = process.StandardError.ReadToEndAsync(watchdog.Token);
        try
        {
            await process.WaitForExitAsync(watchdog.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        Assert.True(process.ExitCode == 0, await stderr);
        return await stdout;
    }

    /// <summary>
    /// Asserts that the console and <paramref name="dotnet"/> (null: valid; else why not) agree on every input, and
    /// returns how many both accepted.
    /// </summary>
    public static async Task<int> AssertAgreeAsync(Dictionary<string, (bool Ok, string Failed)> console, Func<string, Task<string?>> dotnet)
    {
        var accepted = 0;
        foreach (var (input, (ok, failed)) in console)
        {
            var verdict = await dotnet(input);
            Assert.True(ok == (verdict is null), $"{Path.GetFileName(input)}: Sios.Verify says {verdict ?? "valid"}; the browser verifier says {(ok ? "valid" : failed)}");
            accepted += ok ? 1 : 0;
        }

        return accepted;
    }
}
