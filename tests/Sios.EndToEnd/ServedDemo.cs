using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using Sios.Verify.Notes;

namespace Sios.EndToEnd;

/// <summary>Runs the real sios program (the built sios.dll beside the tests) as a child process.</summary>
internal static class SiosCli
{
    public const string Passphrase = "sios-demo-passphrase";

    public static string Dll { get; } = Path.Combine(AppContext.BaseDirectory, "sios.dll");

    /// <summary>
    /// How to start sios with <paramref name="args"/>; a <paramref name="launcher"/> (e.g. <c>nsenter ... --</c>) goes
    /// first and must exec its command, so the process started is still dotnet's own and signals reach it.
    /// </summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> args, IReadOnlyList<string>? launcher = null)
    {
        var info = new ProcessStartInfo(launcher is { Count: > 0 } ? launcher[0] : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var word in launcher?.Skip(1) ?? [])
        {
            info.ArgumentList.Add(word);
        }

        if (launcher is { Count: > 0 })
        {
            info.ArgumentList.Add("dotnet");
        }

        info.ArgumentList.Add(Dll);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["SIOS_KEY_PASSPHRASE"] = Passphrase;
        return info;
    }

    public static Task<(int ExitCode, string Out, string Err)> RunAsync(params string[] args) => RunWithAsync(null, args);

    /// <summary>Runs sios to its end behind <paramref name="launcher"/> (see <see cref="StartInfo"/>).</summary>
    public static async Task<(int ExitCode, string Out, string Err)> RunWithAsync(IReadOnlyList<string>? launcher, params string[] args)
    {
        using var process = Process.Start(StartInfo(args, launcher))!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // A command that hangs must not outlive the test that ran it.
            process.Kill();
            throw;
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}

/// <summary>
/// A real <c>sios serve</c> on 127.0.0.1 (a free port) over a demo folder made by <c>sios demo --no-serve</c>: a base
/// brain, three LoRA specialists and an admin key. Shared by the tests of one class; stopped with SIGTERM at the end.
/// </summary>
public sealed class ServedDemo : IAsyncLifetime
{
    private readonly StringBuilder _stderr = new();
    private Process? _process;

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "sios-e2e-" + Guid.NewGuid().ToString("N"));

    public string Data => Path.Combine(Root, "demo");

    public Uri Url { get; private set; } = new("http://127.0.0.1/");

    /// <summary>More arguments for <c>sios demo --no-serve</c> (e.g. <c>--store URL</c>).</summary>
    public string[] DemoArgs { get; set; } = [];

    /// <summary>A demo folder to copy instead of making one: a second node of the same log, as an operator copies it.</summary>
    public string? CopyOf { get; set; }

    /// <summary>More arguments for <c>sios serve</c>.</summary>
    public string[] ServeArgs { get; set; } = [];

    /// <summary>Run on the data folder after it is set up and before the server starts.</summary>
    public Func<ServedDemo, Task>? BeforeServe { get; set; }

    /// <summary>A command the server is started behind (e.g. <c>nsenter ... --</c>, to see a private mount); it must exec.</summary>
    public IReadOnlyList<string> Launcher { get; set; } = [];

    /// <summary>More environment variables for the server process.</summary>
    public Dictionary<string, string> Environment { get; } = new(StringComparer.Ordinal);

    public string AdminKey { get; private set; } = "";

    /// <summary>The server's process id (0 before it starts), to watch its memory from outside.</summary>
    public int Pid => _process?.Id ?? 0;

    public IReadOnlyList<VerifierKey> Vkeys { get; private set; } = [];

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Root);
        if (CopyOf is not null)
        {
            using var copy = Process.Start("cp", ["-a", CopyOf, Data])!;
            await copy.WaitForExitAsync();
            Assert.Equal(0, copy.ExitCode);
        }
        else
        {
            var setup = await SiosCli.RunAsync(["demo", "--no-serve", "--data", Data, .. DemoArgs]);
            Assert.True(setup.ExitCode == 0, setup.Err);
        }
        AdminKey = (await File.ReadAllTextAsync(Path.Combine(Data, "demo-api-key.txt"))).Trim();
        var vkeys = await SiosCli.RunAsync("key", "vkeys", "--data", Data);
        Vkeys = [.. vkeys.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(VerifierKey.Parse)];
        if (BeforeServe is not null)
        {
            await BeforeServe(this);
        }

        await StartAsync();
    }

    /// <summary>Starts the server and waits for the address it prints on stdout.</summary>
    public async Task StartAsync()
    {
        var info = SiosCli.StartInfo(["serve", "--data", Data, "--urls", "http://127.0.0.1:0", "--parallel", "2", .. ServeArgs], Launcher);
        foreach (var (name, value) in Environment)
        {
            info.Environment[name] = value;
        }

        _process = Process.Start(info)!;
        _process.StandardInput.Close();
        _process.ErrorDataReceived += (_, e) =>
        {
            lock (_stderr)
            {
                _stderr.AppendLine(e.Data);
            }
        };
        _process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var line = await _process.StandardOutput.ReadLineAsync(timeout.Token);
        Assert.True(line is not null, "sios serve exited before serving: " + Stderr);
        Url = new Uri(line!.Split(' ')[0]);
    }

    /// <summary>SIGKILL: the server dies at once, mid-request, as in a power cut of the process.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
    }

    /// <summary>SIGTERM, then waits for the graceful exit; returns the exit code.</summary>
    public async Task<int> StopAsync()
    {
        if (_process is null || _process.HasExited)
        {
            return _process?.ExitCode ?? 0;
        }

        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    /// <summary>The log entry at <paramref name="index"/>, read with <c>sios log entry</c> (it works while serving).</summary>
    public async Task<System.Text.Json.JsonElement> EntryAsync(long index)
    {
        var run = await SiosCli.RunAsync("log", "entry", index.ToString(System.Globalization.CultureInfo.InvariantCulture), "--data", Data);
        Assert.True(run.ExitCode == 0, run.Err);
        using var json = System.Text.Json.JsonDocument.Parse(Encoding.UTF8.GetBytes(run.Out));
        return json.RootElement.Clone();
    }

    public HttpClient Client(string? key = null)
    {
        var client = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromMinutes(2) };
        if ((key ?? AdminKey) is { Length: > 0 } k)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", k);
        }

        return client;
    }

    public async Task DisposeAsync()
    {
        await StopAsync();
        _process?.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
