using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Sios.EndToEnd.Attacks;

/// <summary>
/// Issue [4/7], the monitor, from outside the process: `sios log monitor` follows a real `sios serve` over HTTP with
/// a state file, and names the two attacks the log's own guards cannot see once its whole folder is replaced: a
/// consistent rollback (an older copy of the data folder, rollback guard included) and a fork (a copy of the folder,
/// same keys and origin, grown apart).
/// </summary>
public sealed class MonitorAttackTests : IDisposable
{
    private const string Origin = "monitor-e2e.sios.local/log";

    private readonly string _root = Path.Combine(Path.GetTempPath(), "sios-monitor-e2e-" + Guid.NewGuid().ToString("N"));

    private string StateFile => Path.Combine(_root, "monitor.state");

    private string KeyFile => Path.Combine(_root, "auditor.key");

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact(Timeout = 480_000)]
    public async Task A_consistent_rollback_of_the_whole_data_folder_is_named_across_monitor_restarts()
    {
        var (data, vkeys) = await InitAsync("log");
        var snapshot = Path.Combine(_root, "snapshot");

        string[] first, second;
        await using (var served = await Server.StartAsync(data))
        {
            first = await MonitorOnceAsync(served, vkeys);
        }

        // The copy an attacker puts back later: database, log/published.checkpoint, keys, everything, consistent.
        CopyFolder(data, snapshot);
        await using (var served = await Server.StartAsync(data))
        {
            await GrowAsync(data, 3);
            second = await MonitorOnceAsync(served, vkeys);
            Assert.True(long.Parse(second[1], CultureInfo.InvariantCulture) > long.Parse(first[1], CultureInfo.InvariantCulture));
            await StopsCleanlyOnSigtermAsync(served, vkeys);
        }

        var down = await MonitorAsync(["--once", "--state", StateFile], "http://127.0.0.1:9/log/", vkeys);
        Assert.True(down.ExitCode == 3, down.Err);
        Assert.Contains("cannot read the log", down.Err, StringComparison.Ordinal);

        Directory.Delete(data, recursive: true);
        CopyFolder(snapshot, data);
        await using (var served = await Server.StartAsync(data))
        {
            // The log itself serves without complaint: its rollback guard went back with it.
            var run = await MonitorAsync(["--once", "--state", StateFile], served.LogUrl, vkeys);
            Assert.Equal(1, run.ExitCode);
            Assert.Equal("", run.Out);
            var alarm = Assert.Single(run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("ROLLBACK", StringComparison.Ordinal));
            Assert.Contains(Origin, alarm, StringComparison.Ordinal);
            Assert.Contains($"last accepted size {second[1]} root {second[2]}", alarm, StringComparison.Ordinal);
            Assert.Matches(@"now size \d+ root ", alarm);
        }

        // The alarm changed nothing: the state still holds the newest checkpoint the monitor accepted.
        Assert.Contains($"\n{second[1]}\n{second[2]}\n", await File.ReadAllTextAsync(StateFile), StringComparison.Ordinal);
    }

    [Fact(Timeout = 480_000)]
    public async Task A_fork_with_the_same_keys_and_origin_is_named()
    {
        var (a, vkeys) = await InitAsync("log-a");
        var b = Path.Combine(_root, "log-b");
        CopyFolder(a, b);

        string[] seen;
        await using (var served = await Server.StartAsync(a))
        {
            await GrowAsync(a, 1);
            seen = await MonitorOnceAsync(served, vkeys);
        }

        await using (var served = await Server.StartAsync(b))
        {
            await GrowAsync(b, 4);
            var run = await MonitorAsync(["--once", "--state", StateFile], served.LogUrl, vkeys);
            Assert.Equal(1, run.ExitCode);
            var alarm = Assert.Single(run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("FORK", StringComparison.Ordinal));
            Assert.Contains(Origin, alarm, StringComparison.Ordinal);
            Assert.Contains($"last accepted size {seen[1]} root {seen[2]}", alarm, StringComparison.Ordinal);
            Assert.Contains($"does not contain the tree of size {seen[1]}", alarm, StringComparison.Ordinal);
        }
    }

    /// <summary>A new log with an auditor key (written to <see cref="KeyFile"/>); returns its folder and vkeys.</summary>
    private async Task<(string Data, string[] Vkeys)> InitAsync(string name)
    {
        Directory.CreateDirectory(_root);
        var data = Path.Combine(_root, name);
        var init = await SiosCli.RunAsync("init", "--origin", Origin, "--data", data);
        Assert.True(init.ExitCode == 0, init.Err);
        var key = await SiosCli.RunAsync("key", "create", "monitor", "--brains", "*", "--role", "auditor", "--data", data);
        Assert.True(key.ExitCode == 0, key.Err);
        await File.WriteAllTextAsync(KeyFile, key.Out);
        return (data, init.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>Seals <paramref name="count"/> key.created entries through the running server's control socket.</summary>
    private static async Task GrowAsync(string data, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var run = await SiosCli.RunAsync("key", "create", "grow" + Guid.NewGuid().ToString("N")[..8], "--brains", "*", "--data", data);
            Assert.True(run.ExitCode == 0, run.Err);
        }
    }

    /// <summary>Runs the monitor once with the state file; it must accept, printing exactly "ok SIZE ROOT".</summary>
    private async Task<string[]> MonitorOnceAsync(Server served, string[] vkeys)
    {
        var run = await MonitorAsync(["--once", "--state", StateFile], served.LogUrl, vkeys);
        Assert.True(run.ExitCode == 0, run.Err);
        var words = run.Out.TrimEnd('\n').Split(' ');
        Assert.True(words is ["ok", _, _], run.Out);
        Assert.Equal(32, Convert.FromBase64String(words[2]).Length);
        return words;
    }

    /// <summary>As a service the monitor prints each accepted checkpoint and ends with 0 on SIGTERM.</summary>
    private async Task StopsCleanlyOnSigtermAsync(Server served, string[] vkeys)
    {
        using var process = Process.Start(MonitorInfo(["--interval", "1", "--state", StateFile], served.LogUrl, vkeys))!;
        process.StandardInput.Close();
        var stderr = process.StandardError.ReadToEndAsync();
        using var watchdog = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            var line = await process.StandardOutput.ReadLineAsync(watchdog.Token);
            Assert.StartsWith("ok ", line, StringComparison.Ordinal);
            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync(watchdog.Token);
            }

            await process.WaitForExitAsync(watchdog.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }

        Assert.True(process.ExitCode == 0, await stderr);
        Assert.Contains("monitor stopped", await stderr, StringComparison.Ordinal);
    }

    private async Task<(int ExitCode, string Out, string Err)> MonitorAsync(string[] options, string url, string[] vkeys)
    {
        using var process = Process.Start(MonitorInfo(options, url, vkeys))!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var watchdog = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(watchdog.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }

        return (process.ExitCode, await stdout, await stderr);
    }

    private ProcessStartInfo MonitorInfo(string[] options, string url, string[] vkeys) =>
        SiosCli.StartInfo(["log", "monitor", url, .. vkeys.SelectMany(v => new[] { "--vkey", v }), "--api-key-file", KeyFile, .. options]);

    private static void CopyFolder(string from, string to)
    {
        foreach (var directory in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, directory)));
        }

        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
        }
    }

    /// <summary>A real `sios serve` over a data folder on a free loopback port, stopped with SIGTERM.</summary>
    private sealed class Server : IAsyncDisposable
    {
        private readonly Process _process;

        private Server(Process process, string url)
        {
            _process = process;
            LogUrl = url.TrimEnd('/') + "/log/";
        }

        public string LogUrl { get; }

        public static async Task<Server> StartAsync(string data)
        {
            var process = Process.Start(SiosCli.StartInfo(["serve", "--data", data, "--urls", "http://127.0.0.1:0"]))!;
            process.StandardInput.Close();
            var errors = new StringBuilder();
            process.ErrorDataReceived += (_, e) =>
            {
                lock (errors)
                {
                    errors.AppendLine(e.Data);
                }
            };
            process.BeginErrorReadLine();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            string? line;
            try
            {
                line = await process.StandardOutput.ReadLineAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill();
                throw;
            }

            if (line is null)
            {
                await process.WaitForExitAsync();
                lock (errors)
                {
                    Assert.Fail("sios serve exited before serving: " + errors);
                }
            }

            return new Server(process, line!.Split(' ')[0]);
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
                {
                    await kill.WaitForExitAsync();
                }

                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                try
                {
                    await _process.WaitForExitAsync(timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    _process.Kill();
                }
            }

            _process.Dispose();
        }
    }
}
