using System.Diagnostics;
using System.Text;

namespace Sios.Cli.Tests;

/// <summary>Runs the real sios program (the built sios.dll beside the tests) as a child process.</summary>
internal sealed record SiosRun(int ExitCode, byte[] Stdout, string Stderr)
{
    public string Out => Encoding.UTF8.GetString(Stdout);
}

internal static class SiosProcess
{
    public const string Passphrase = "correct horse battery staple";

    public static string Dll { get; } = Path.Combine(AppContext.BaseDirectory, "sios.dll");

    public static ProcessStartInfo StartInfo(IEnumerable<string> args, string? passphrase = Passphrase)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Dll);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment.Remove("SIOS_KEY_PASSPHRASE");
        if (passphrase is not null)
        {
            info.Environment["SIOS_KEY_PASSPHRASE"] = passphrase;
        }

        return info;
    }

    /// <summary>Runs sios to its end; <paramref name="env"/> adds environment variables (a token, a fault point).</summary>
    public static async Task<SiosRun> RunAsync(string[] args, string? passphrase = Passphrase, byte[]? stdin = null, params (string Name, string Value)[] env)
    {
        var info = StartInfo(args, passphrase);
        foreach (var (name, value) in env)
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info)!;
        var stdout = new MemoryStream();
        var copyOut = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        var readErr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.BaseStream.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        await copyOut;
        return new SiosRun(process.ExitCode, stdout.ToArray(), await readErr);
    }
}

/// <summary>A fresh data folder, initialised once per test class, deleted afterwards.</summary>
public sealed class InitialisedLog : IAsyncLifetime
{
    public const string Origin = "test.sios.local/log";

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "sios-cli-" + Guid.NewGuid().ToString("N"));

    public string Data => Path.Combine(Root, "data");

    public string[] Vkeys { get; private set; } = [];

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Root);
        var run = await SiosProcess.RunAsync(["init", "--origin", Origin, "--data", Data]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Vkeys = run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Root, recursive: true);
        return Task.CompletedTask;
    }
}

/// <summary>Weight files the registry accepts without a real model: a GGUF header, then random bytes (unique per call).</summary>
internal static class GgufFiles
{
    /// <summary>A "llama" model header then <paramref name="length"/> random bytes, at <paramref name="path"/>.</summary>
    public static string Model(string path, int length) => Write(path, length, adapter: false);

    /// <summary>A LoRA adapter header for a <see cref="Model"/> then <paramref name="length"/> random bytes.</summary>
    public static string Adapter(string path, int length) => Write(path, length, adapter: true);

    private static string Write(string path, int length, bool adapter)
    {
        var header = new Sios.Brains.Synth.GgufWriter().AddString("general.architecture", "llama").AddString("general.type", adapter ? "adapter" : "model");
        if (adapter)
        {
            header.AddString("adapter.type", "lora");
        }

        using var stream = File.Create(path);
        header.WriteTo(stream);
        stream.Write(System.Security.Cryptography.RandomNumberGenerator.GetBytes(length));
        return path;
    }
}
