using System.Diagnostics;
using System.Text;
using Sios.Cli.Tests;
using Sios.Verify.Notes;

namespace Sios.Witness.Tests;

/// <summary>
/// A client of a real <c>sios witness serve</c> process written from c2sp.org/tlog-witness alone: bodies are built
/// from the spec's text here, not with the witness's own parsing or formatting code.
/// </summary>
internal sealed class ServedWitness : IAsyncDisposable
{
    private readonly Process _process;
    private readonly HttpClient _http;

    private ServedWitness(Process process, string address)
    {
        _process = process;
        Address = address;
        _http = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(20) };
    }

    public string Address { get; }

    /// <summary>Starts <c>sios witness serve</c> on a free loopback port and waits (at most a minute) for its address.</summary>
    public static async Task<ServedWitness> StartAsync(string data, string? faultPoint = null)
    {
        var info = SiosProcess.StartInfo(["witness", "serve", "--data", data, "--urls", "http://127.0.0.1:0"]);
        if (faultPoint is not null)
        {
            info.Environment["SIOS_FAULT_EXIT_AT"] = faultPoint;
        }

        var process = Process.Start(info)!;
        _ = process.StandardError.ReadToEndAsync();
        using var watchdog = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        try
        {
            var line = await process.StandardOutput.ReadLineAsync(watchdog.Token) ?? throw new InvalidOperationException($"witness exited ({process.ExitCode}) before serving");
            return new ServedWitness(process, line.Trim());
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    /// <summary>The add-checkpoint body: "old N", one base64 hash per line, an empty line, then the note.</summary>
    public static byte[] Body(long old, IEnumerable<string> proofLines, byte[] checkpoint) =>
        [.. Encoding.ASCII.GetBytes("old " + old + "\n" + string.Concat(proofLines.Select(l => l + "\n")) + "\n"), .. checkpoint];

    public async Task<(int Status, string? ContentType, byte[] Body)> PostAsync(byte[] body, CancellationToken ct = default)
    {
        using var content = new ByteArrayContent(body);
        using var response = await _http.PostAsync("add-checkpoint", content, ct);
        return ((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsByteArrayAsync(ct));
    }

    /// <summary>GET &lt;hex SHA-256 of the origin&gt;/checkpoint, the spec's monitoring path.</summary>
    public async Task<(int Status, byte[] Body)> LatestAsync(string origin)
    {
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(origin)));
        using var response = await _http.GetAsync(hash + "/checkpoint");
        return ((int)response.StatusCode, await response.Content.ReadAsByteArrayAsync());
    }

    /// <summary>GET <paramref name="path"/>: its status, content type, Content-Security-Policy (or null) and body.</summary>
    public async Task<(int Status, string? ContentType, string? Policy, string Body)> GetAsync(string path)
    {
        using var response = await _http.GetAsync(path);
        var policy = response.Headers.TryGetValues("Content-Security-Policy", out var values) ? string.Join(";", values) : null;
        return ((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, policy, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The exit code, once the process has exited by itself (at a fault point).</summary>
    public async Task<int> ExitCodeAsync()
    {
        await _process.WaitForExitAsync();
        return _process.ExitCode;
    }

    /// <summary>kill -9.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
        _http.Dispose();
    }
}

/// <summary>
/// Real SIOS logs made with the sios CLI, for the witness to cosign: one log (origin <see cref="Origin"/>) that forks
/// into A and B after a common checkpoint (the data folder copied, then different notes in each), a stranger log of
/// another origin, and an impostor of the same origin with other keys; and a witness folder that witnesses the first.
/// </summary>
public sealed class WitnessedLogs : IAsyncLifetime
{
    public const string Origin = "witness-e2e.sios.local/log";
    public const string WitnessName = "witness-e2e.sios.local/w1";

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "sios-witness-e2e-" + Guid.NewGuid().ToString("N"));

    public string WitnessData => Path.Combine(Root, "witness");

    public IReadOnlyList<VerifierKey> LogKeys { get; private set; } = [];

    public IReadOnlyList<VerifierKey> WitnessKeys { get; private set; } = [];

    /// <summary>The common checkpoint, then fork A's two and fork B's two: (size, note) each.</summary>
    public (long Size, byte[] Note) Common { get; private set; }

    public (long Size, byte[] Note)[] A { get; private set; } = [];

    public (long Size, byte[] Note)[] B { get; private set; } = [];

    public byte[] Stranger { get; private set; } = [];

    public byte[] Impostor { get; private set; } = [];

    private readonly Dictionary<(char Fork, long From, long To), string[]> _proofs = [];

    /// <summary>The consistency proof lines in <paramref name="fork"/> ('A' or 'B'), or null if this fixture has none.</summary>
    public string[]? Proof(char fork, long from, long to) => from == 0 || from == to ? [] : _proofs.GetValueOrDefault((fork, from, to));

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Root);
        var logA = Path.Combine(Root, "log-a");
        var logB = Path.Combine(Root, "log-b");
        LogKeys = [.. (await Sios(["init", "--origin", Origin, "--data", logA])).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(VerifierKey.Parse)];
        await Sios(["log", "note", "common", "--data", logA]);
        Common = await CheckpointOf(logA);
        CopyFolder(logA, logB);
        A = [await Grow(logA, "a1"), await Grow(logA, "a2")];
        B = [await Grow(logB, "b1"), await Grow(logB, "b2")];
        foreach (var (fork, data, sizes) in new[] { ('A', logA, A), ('B', logB, B) })
        {
            foreach (var (from, to) in new[] { (Common.Size, sizes[0].Size), (Common.Size, sizes[1].Size), (sizes[0].Size, sizes[1].Size) })
            {
                _proofs[(fork, from, to)] = (await Sios(["log", "consistency", "--from", $"{from}", "--to", $"{to}", "--data", data])).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            }
        }

        var stranger = Path.Combine(Root, "stranger");
        await Sios(["init", "--origin", "stranger.sios.local/log", "--data", stranger]);
        Stranger = (await CheckpointOf(stranger)).Note;
        var impostor = Path.Combine(Root, "impostor");
        await Sios(["init", "--origin", Origin, "--data", impostor]);
        Impostor = (await CheckpointOf(impostor)).Note;

        WitnessKeys = [.. (await Sios(["witness", "init", "--data", WitnessData, "--name", WitnessName])).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(VerifierKey.Parse)];
        await Sios(["witness", "add-log", "--data", WitnessData, "--origin", Origin, .. LogKeys.SelectMany(k => new[] { "--vkey", k.ToString() })]);
    }

    /// <summary>Forgets what the witness cosigned (its state and record), keeping its keys and logs: a fresh witness.</summary>
    public void ResetWitness()
    {
        File.Delete(Path.Combine(WitnessData, "record"));
        if (Directory.Exists(Path.Combine(WitnessData, "state")))
        {
            Directory.Delete(Path.Combine(WitnessData, "state"), recursive: true);
        }
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Root, recursive: true);
        return Task.CompletedTask;
    }

    private static async Task<string> Sios(string[] args)
    {
        var run = await SiosProcess.RunAsync(args);
        Assert.True(run.ExitCode == 0, $"sios {string.Join(' ', args)}: {run.Stderr}");
        return run.Out;
    }

    private static async Task<(long Size, byte[] Note)> CheckpointOf(string data)
    {
        var note = (await SiosProcess.RunAsync(["log", "checkpoint", "--data", data])).Stdout;
        return (long.Parse(Encoding.UTF8.GetString(note).Split('\n')[1], System.Globalization.CultureInfo.InvariantCulture), note);
    }

    private static async Task<(long Size, byte[] Note)> Grow(string data, string text)
    {
        await Sios(["log", "note", text, "--data", data]);
        return await CheckpointOf(data);
    }

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
}
