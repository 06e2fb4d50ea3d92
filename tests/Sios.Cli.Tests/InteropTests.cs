using System.Diagnostics;

namespace Sios.Cli.Tests;

/// <summary>
/// Cross-checks with code that shares nothing with SIOS: tests/interop/verify-checkpoint.mjs verifies checkpoints
/// with node:crypto and @noble/post-quantum (an independent ML-DSA), parsing the formats by hand.
/// </summary>
public sealed class InteropTests(InitialisedLog log) : IClassFixture<InitialisedLog>
{
    [InteropFact]
    public async Task Checkpoints_verify_under_an_independent_ml_dsa_implementation()
    {
        Assert.Equal(0, (await SiosProcess.RunAsync(["log", "note", "cross-checked", "--data", log.Data])).ExitCode);
        var note = (await SiosProcess.RunAsync(["log", "checkpoint", "--data", log.Data], passphrase: null)).Stdout;
        var file = Path.Combine(log.Root, "interop.note");
        await File.WriteAllBytesAsync(file, note);
        var (ok, okOut) = await NodeAsync(file);
        Assert.True(ok == 0, okOut);
        Assert.StartsWith("ok: " + InitialisedLog.Origin, okOut, StringComparison.Ordinal);

        note[InitialisedLog.Origin.Length + 5] ^= 0x01;
        await File.WriteAllBytesAsync(file, note);
        var (bad, badOut) = await NodeAsync(file);
        Assert.Equal(1, bad);
        Assert.Contains("FAIL", badOut, StringComparison.Ordinal);
    }

    private async Task<(int ExitCode, string Output)> NodeAsync(string noteFile)
    {
        var info = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Interop.Folder! };
        info.ArgumentList.Add("verify-checkpoint.mjs");
        info.ArgumentList.Add(noteFile);
        info.ArgumentList.Add(log.Vkeys[0]);
        info.ArgumentList.Add(log.Vkeys[1]);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }
}

/// <summary>Finds tests/interop with its npm dependencies installed, and node on the PATH.</summary>
internal static class Interop
{
    public static string? Folder { get; } = NodeFolder("tests/interop");

    public const string AbsentReason = "node or tests/interop/node_modules is missing: run 'npm install' in tests/interop (.ci/run does)";

    /// <summary>The folder <paramref name="relative"/> to the repository, when its @noble/post-quantum is installed and node is on the PATH.</summary>
    public static string? NodeFolder(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Sios.sln")))
            {
                var folder = Path.Combine(dir.FullName, relative);
                var installed = Directory.Exists(Path.Combine(folder, "node_modules", "@noble", "post-quantum"));
                var node = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Any(p => File.Exists(Path.Combine(p, "node")));
                return installed && node ? folder : null;
            }
        }

        return null;
    }
}

/// <summary>A fact skipped, with the reason stated, when the interop toolchain is not installed.</summary>
internal sealed class InteropFactAttribute : FactAttribute
{
    public InteropFactAttribute()
    {
        if (Interop.Folder is null)
        {
            Skip = Interop.AbsentReason;
        }
    }
}
