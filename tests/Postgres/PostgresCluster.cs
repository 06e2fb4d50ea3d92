using System.Diagnostics;
using System.Globalization;

namespace Sios.Tests.Postgres;

/// <summary>
/// A throwaway PostgreSQL cluster for tests: initdb in a temporary folder, a server on a free 127.0.0.1 port, trust
/// authentication for its one superuser, fsync on (the store refuses a server that could lose what it acknowledged).
/// Binaries come from Debian's packages (<c>/usr/lib/postgresql/N/bin</c>) or PATH; as root, the server runs as the
/// <c>postgres</c> user the package creates, since PostgreSQL refuses to run as root.
/// </summary>
public sealed class PostgresCluster : IAsyncDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(90);

    private PostgresCluster(string bin, string folder, int port)
    {
        Bin = bin;
        Folder = folder;
        Port = port;
    }

    /// <summary>Why no cluster can be started here, or null when the binaries are present.</summary>
    public static string? Unavailable { get; } = FindBin() is null
        ? "PostgreSQL's server binaries (initdb, pg_ctl) are not installed: apt-get install postgresql (.ci/run does)"
        : null;

    /// <summary>The folder holding the server binaries.</summary>
    public string Bin { get; }

    /// <summary>The cluster's folder (data, socket and server log).</summary>
    public string Folder { get; }

    /// <summary>The loopback TCP port the server listens on.</summary>
    public int Port { get; }

    /// <summary>A connection string for the superuser <c>sios</c> to the <c>postgres</c> database.</summary>
    public string ConnectionString => $"Host=127.0.0.1;Port={Port.ToString(CultureInfo.InvariantCulture)};Username=sios;Database=postgres;Timeout=15;Command Timeout=60";

    private string Data => Path.Combine(Folder, "data");

    /// <summary>Creates and starts a cluster; <paramref name="settings"/> are extra <c>-c name=value</c> server settings.</summary>
    public static async Task<PostgresCluster> StartAsync(params string[] settings)
    {
        var bin = FindBin() ?? throw new InvalidOperationException(Unavailable);
        var folder = NewFolder();
        if (IsRoot)
        {
            await RunAsync("chown", ["postgres:postgres", folder]);
        }

        var cluster = new PostgresCluster(bin, folder, Sios.Tests.Shared.LoopbackPorts.Pick());
        try
        {
            await cluster.RunServerToolAsync("initdb", ["-D", cluster.Data, "-U", "sios", "-A", "trust", "-E", "UTF8", "--no-instructions", "--no-sync"]);
            await cluster.StartServerAsync(settings);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Makes a streaming standby of this server (<c>pg_basebackup -R</c>) in a folder and on a port of its own, starts it,
    /// and makes it synchronous: from then on this server acknowledges a commit only once the standby has flushed it
    /// (<c>synchronous_standby_names = '*'</c> with <c>synchronous_commit = on</c>), the setup the README documents.
    /// </summary>
    public async Task<PostgresCluster> StartSynchronousStandbyAsync()
    {
        var standby = new PostgresCluster(Bin, NewFolder(), Sios.Tests.Shared.LoopbackPorts.Pick());
        try
        {
            if (IsRoot)
            {
                await RunAsync("chown", ["postgres:postgres", standby.Folder]);
            }

            await standby.RunServerToolAsync("pg_basebackup", ["-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", "sios", "-D", standby.Data, "-R", "-X", "stream", "--no-sync"]);
            await standby.StartServerAsync([]);
            await SqlAsync("ALTER SYSTEM SET synchronous_standby_names = '*'; SELECT pg_reload_conf();");
            var waited = Stopwatch.StartNew();
            while (await SqlAsync("SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync';") is not long and > 0)
            {
                if (waited.Elapsed > CommandTimeout)
                {
                    throw new InvalidOperationException($"the standby on port {standby.Port} never became synchronous");
                }

                await Task.Delay(100);
            }

            return standby;
        }
        catch
        {
            await standby.DisposeAsync();
            throw;
        }
    }

    /// <summary>Promotes this standby to primary (<c>pg_ctl promote</c>), waiting until it takes writes.</summary>
    public Task PromoteAsync() => RunServerToolAsync("pg_ctl", ["-D", Data, "-w", "-t", "60", "promote"]);

    /// <summary>Runs SQL as the superuser and returns the first column of the last statement's first row.</summary>
    public async Task<object?> SqlAsync(string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(ConnectionString + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    /// <summary>Stops the server as a crash would (<c>-m immediate</c>: no shutdown checkpoint) and starts it again on the same port.</summary>
    public async Task RestartAsync(params string[] settings)
    {
        await StopAsync("immediate");
        await StartServerAsync(settings);
    }

    /// <summary>Starts the server again after <see cref="StopAsync"/>, on the same port and data.</summary>
    public Task StartAgainAsync(params string[] settings) => StartServerAsync(settings);

    /// <summary>Stops the server; <paramref name="mode"/> is pg_ctl's (<c>fast</c>, or <c>immediate</c> for a crash).</summary>
    public Task StopAsync(string mode = "fast") => RunServerToolAsync("pg_ctl", ["-D", Data, "-m", mode, "-w", "stop"]);

    /// <summary>Stops the server at once and removes its folder.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (File.Exists(Path.Combine(Data, "postmaster.pid")))
            {
                await StopAsync("immediate");
            }
        }
        catch (InvalidOperationException)
        {
            // Already stopped: the folder goes either way.
        }

        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A file the server was still closing; the temporary folder is swept by the system.
        }
    }

    private static bool IsRoot => Environment.UserName == "root";

    private static string NewFolder()
    {
        var folder = Path.Combine(Path.GetTempPath(), "sios-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        return folder;
    }

    private static string? FindBin()
    {
        var debian = "/usr/lib/postgresql";
        if (Directory.Exists(debian))
        {
            var newest = Directory.GetDirectories(debian)
                .Select(d => (Dir: d, Version: int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : -1))
                .Where(d => d.Version > 0 && File.Exists(Path.Combine(d.Dir, "bin", "initdb")))
                .OrderByDescending(d => d.Version)
                .FirstOrDefault();
            if (newest.Dir is not null)
            {
                return Path.Combine(newest.Dir, "bin");
            }
        }

        return (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
            .FirstOrDefault(dir => dir.Length > 0 && File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl")));
    }

    private static async Task<string> RunAsync(string file, IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        using var watchdog = new CancellationTokenSource(CommandTimeout);
        var output = process.StandardOutput.ReadToEndAsync(watchdog.Token);
        var error = process.StandardError.ReadToEndAsync(watchdog.Token);
        try
        {
            await process.WaitForExitAsync(watchdog.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} did not finish within {CommandTimeout.TotalSeconds} s");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await error}{await output}");
        }

        return await output;
    }

    private async Task StartServerAsync(IReadOnlyList<string> settings)
    {
        // Only the loopback port and a socket in the cluster's own folder: nothing of the machine's own PostgreSQL is touched.
        var options = $"-c listen_addresses=127.0.0.1 -c port={Port.ToString(CultureInfo.InvariantCulture)} -c unix_socket_directories={Folder} -c fsync=on -c max_connections=200";
        foreach (var setting in settings)
        {
            options += " -c " + setting;
        }

        await RunServerToolAsync("pg_ctl", ["-D", Data, "-l", Path.Combine(Folder, "server.log"), "-o", options, "-w", "-t", "60", "start"]);
    }

    private Task<string> RunServerToolAsync(string tool, IReadOnlyList<string> arguments) =>
        IsRoot ? RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(Bin, tool), .. arguments]) : RunAsync(Path.Combine(Bin, tool), arguments);
}
