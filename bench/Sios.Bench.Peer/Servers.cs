using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

/// <summary>A server process for the comparison: started, waited for, killed with its children at the end.</summary>
internal sealed class ServerProcess : IDisposable
{
    private readonly Process _process;

    private ServerProcess(Process process, Uri url, string name)
    {
        _process = process;
        Url = url;
        Name = name;
    }

    public Uri Url { get; }

    public string Name { get; }

    /// <summary>llama-server on a free port, as a user runs it for this comparison.</summary>
    public static async Task<ServerProcess> LlamaServerAsync(string binary, string model, int threads, int context, int parallel)
    {
        var port = FreePort();
        var info = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-m", model, "-t", $"{threads}", "-tb", $"{threads}", "-c", $"{context}", "--parallel", $"{parallel}", "--host", "127.0.0.1", "--port", $"{port}" })
        {
            info.ArgumentList.Add(a);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {binary}");
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        var url = new Uri($"http://127.0.0.1:{port}/");
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        for (var i = 0; i < 600; i++)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"llama-server exited ({process.ExitCode}) before serving");
            }

            try
            {
                if ((await client.GetAsync(new Uri(url, "health"))).StatusCode == HttpStatusCode.OK)
                {
                    return new ServerProcess(process, url, "llama-server");
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(200);
        }

        process.Kill(entireProcessTree: true);
        throw new InvalidOperationException("llama-server did not become healthy within 2 minutes");
    }

    /// <summary>sios serve on a fresh data folder holding one brain on the model; returns the server and a user key for it.</summary>
    public static async Task<(ServerProcess Server, string Key)> SiosAsync(string siosDll, string work, string model, int threads, int context)
    {
        var data = Path.Combine(work, "sios-data");
        await RunAsync(siosDll, ["init", "--origin", "peer-bench.sios.local/log", "--data", data]);
        await RunAsync(siosDll, ["brain", "add", "peer", "--model", model, "--threads", $"{threads}", "--context", $"{context}", "--data", data]);
        var key = (await RunAsync(siosDll, ["key", "create", "bench", "--role", "user", "--brains", "peer", "--data", data])).Trim();
        var info = Start(siosDll, ["serve", "--data", data, "--urls", "http://127.0.0.1:0"]);
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start sios serve");
        _ = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var line = await process.StandardOutput.ReadLineAsync(timeout.Token) ?? throw new InvalidOperationException("sios serve exited before serving");
        _ = process.StandardOutput.ReadToEndAsync();
        return (new ServerProcess(process, new Uri(line.Split(' ')[0].TrimEnd('/') + "/"), "sios"), key);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private static ProcessStartInfo Start(string siosDll, string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        info.ArgumentList.Add(siosDll);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["SIOS_KEY_PASSPHRASE"] = "peer benchmark passphrase";
        return info;
    }

    private static async Task<string> RunAsync(string siosDll, string[] args)
    {
        using var process = Process.Start(Start(siosDll, args)) ?? throw new InvalidOperationException("could not start sios");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return process.ExitCode == 0 ? await output : throw new InvalidOperationException($"sios {string.Join(' ', args)} failed ({process.ExitCode}): {error}");
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }
}
