using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Sios.Verify.Checkpoints;
using Sios.Verify.Merkle;
using Xunit.Abstractions;

namespace Sios.EndToEnd;

/// <summary>
/// A real full disk and a real read-only filesystem under a real <c>sios serve</c> (issue 6, item 6; item 2): the data
/// folder lives on a small filesystem in a private mount namespace. While the storage fails, every answer is either a
/// sealed 200 or a 503 with an OpenAI error body and nothing of the answer; the server says it is not ready, stops on
/// SIGTERM with the documented code, and after the storage is repaired it recovers: every acknowledged answer present
/// with matching commitments, consistent with the checkpoints seen before, the log auditing clean, new answers sealed.
/// </summary>
public sealed class StorageExhaustionTests(ITestOutputHelper output)
{
    private const int ExitFailed = 3;

    private sealed record Acknowledged(long Index, byte[] Request, byte[] Response, string RequestNonce, string ResponseNonce);

    private sealed class Tally
    {
        public List<Acknowledged> Sealed { get; } = [];

        public int Ok { get; set; }

        public int Unavailable { get; set; }
    }

    [TmpfsFact]
    public async Task A_disk_that_fills_while_serving_refuses_answers_with_503_and_recovers_at_restart()
    {
        await RunScenarioAsync(
            "full",
            (demo, image) => PrivateMount.TmpfsAsync(demo.Data, 2 << 20),
            async mount => output.WriteLine("dd: " + (await mount.FillAsync()).Trim().Split('\n')[0]),
            mount => mount.FreeAsync(),
            "disk is full");
    }

    [Ext4Fact]
    public async Task A_filesystem_that_turns_read_only_while_serving_refuses_answers_with_503_and_recovers_at_restart()
    {
        await RunScenarioAsync(
            "read-only",
            (demo, image) => PrivateMount.Ext4Async(demo.Data, image, 8 << 20),
            mount => mount.FailReadOnlyAsync(),
            mount => mount.RepairAsync(),
            "disk I/O error");
    }

    [TmpfsFact]
    public async Task Serve_on_a_read_only_or_full_filesystem_exits_3_with_one_clear_line()
    {
        var root = Directory.CreateTempSubdirectory("sios-e2e-storage-").FullName;
        var data = Path.Combine(root, "demo");
        PrivateMount? mount = null;
        try
        {
            var setup = await SiosCli.RunAsync("demo", "--no-serve", "--data", data);
            Assert.True(setup.ExitCode == 0, setup.Err);
            mount = await ConfineAsync(data, () => PrivateMount.TmpfsAsync(data, 2 << 20));
            string[] serve = ["serve", "--data", data, "--urls", "http://127.0.0.1:0"];

            // No file is open, so the kernel allows an ordinary read-only remount here.
            await mount.ShAsync($"mount -o remount,ro '{data}'");
            var readOnly = await SiosCli.RunWithAsync(mount.Launcher, serve);
            output.WriteLine($"read-only: exit {readOnly.ExitCode}: {readOnly.Err.Trim()}");
            AssertOneLineFailure(readOnly, "Read-only file system");

            await mount.ShAsync($"mount -o remount,rw '{data}'");
            await mount.FillAsync();
            var full = await SiosCli.RunWithAsync(mount.Launcher, serve);
            output.WriteLine($"full: exit {full.ExitCode}: {full.Err.Trim()}");
            AssertOneLineFailure(full, "No space left on device", "disk is full");

            await mount.FreeAsync();
            var audit = await SiosCli.RunWithAsync(mount.Launcher, "log", "verify", "--data", data);
            Assert.True(audit.ExitCode == 0, $"the refused starts left a log that does not audit clean: {audit.Out} {audit.Err}");
        }
        finally
        {
            if (mount is not null)
            {
                await mount.DisposeAsync();
            }

            Directory.Delete(root, recursive: true);
        }
    }

    private static void AssertOneLineFailure((int ExitCode, string Out, string Err) result, params string[] reasons)
    {
        Assert.True(result.ExitCode == ExitFailed, $"expected exit {ExitFailed} (could not run: I/O error), got {result.ExitCode}: {result.Err}");
        var lines = result.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1 && lines[0].StartsWith("sios: ", StringComparison.Ordinal), "expected one 'sios: ...' line on stderr, got: " + result.Err);
        Assert.True(reasons.Any(r => lines[0].Contains(r, StringComparison.Ordinal)), $"the error should say {string.Join(" or ", reasons)}: {lines[0]}");
        Assert.DoesNotContain("internal error", lines[0], StringComparison.Ordinal);
    }

    /// <summary>Moves the prepared folder aside, mounts the small filesystem over its place, and copies it in.</summary>
    private static async Task<PrivateMount> ConfineAsync(string data, Func<Task<PrivateMount>> mountOver)
    {
        var prepared = data + ".prepared";
        Directory.Move(data, prepared);
        Directory.CreateDirectory(data);
        var mount = await mountOver();
        try
        {
            // sync: the copy must be on the device before it can fail, or a read-only turn would drop it from the cache.
            await mount.ShAsync($"cp -a '{prepared}/.' '{data}/' && sync -f '{data}' && df -k '{data}' | tail -1");
            return mount;
        }
        catch
        {
            await mount.DisposeAsync();
            throw;
        }
    }

    private async Task RunScenarioAsync(string name, Func<ServedDemo, string, Task<PrivateMount>> mountOver, Func<PrivateMount, Task> fail, Func<PrivateMount, Task> repair, string storeError)
    {
        PrivateMount? mount = null;
        var demo = new ServedDemo();
        demo.BeforeServe = async d =>
        {
            mount = await ConfineAsync(d.Data, () => mountOver(d, Path.Combine(d.Root, "disk.img")));
            d.Launcher = mount.Launcher;
        };
        var tally = new Tally();
        try
        {
            await demo.InitializeAsync();
            using var http = demo.Client();

            for (var i = 0; i < 4; i++)
            {
                await SendAsync(demo, http, $"before {i}", i, tally);
            }

            Assert.Equal(4, tally.Ok);
            var before = CheckpointVerifier.ForLogKeys(demo.Vkeys).Verify(await http.GetByteArrayAsync("/log/checkpoint")).Checkpoint;

            await fail(mount!);
            var okBefore = tally.Ok;
            for (var i = 0; i < 40 && tally.Unavailable < 4; i++)
            {
                await SendAsync(demo, http, $"during {i}", i, tally);
            }

            Assert.True(tally.Unavailable > 0, $"the {name} filesystem never caused a 503 in {tally.Ok - okBefore} answers: the fault was not exercised");
            var stream = await http.PostAsync("/v1/chat/completions", Json("""{"model":"demo","messages":[{"role":"user","content":"stream"}],"max_tokens":2,"stream":true}"""));
            await AssertRefusedAsync(stream);

            var health = await http.GetAsync("/healthz");
            var healthBody = await health.Content.ReadAsStringAsync();
            Assert.True(health.StatusCode == HttpStatusCode.ServiceUnavailable, $"/healthz must say not ready while the log cannot seal, got {health.StatusCode}: {healthBody}");
            using (var doc = JsonDocument.Parse(healthBody))
            {
                Assert.Equal("unavailable", doc.RootElement.GetProperty("status").GetString());
            }

            int exit;
            try
            {
                exit = await demo.StopAsync();
            }
            catch (OperationCanceledException)
            {
                await demo.KillAsync();
                throw new Xunit.Sdk.XunitException($"the server did not exit within 60 s of SIGTERM on a {name} filesystem (killed): {demo.Stderr}");
            }

            output.WriteLine($"{name}: {okBefore} answers before the fault; during it {tally.Ok - okBefore} sealed 200s and {tally.Unavailable} 503s; SIGTERM exit {exit}");
            output.WriteLine(string.Join('\n', demo.Stderr.Split('\n').Where(l => l.StartsWith("sios:", StringComparison.Ordinal) || l.StartsWith("Stopping", StringComparison.Ordinal))));
            Assert.True(exit == ExitFailed, $"after the log stopped, SIGTERM should exit {ExitFailed}, got {exit}: {demo.Stderr}");
            Assert.Contains(storeError, demo.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("Unhandled exception", demo.Stderr, StringComparison.Ordinal);

            await repair(mount!);
            await demo.StartAsync();
            await AssertRecoveredAsync(demo, mount!, before, tally.Sealed);
        }
        finally
        {
            await demo.KillAsync();
            if (mount is not null)
            {
                await mount.DisposeAsync();
            }

            await demo.DisposeAsync();
        }
    }

    private static async Task AssertRecoveredAsync(ServedDemo demo, PrivateMount mount, Checkpoint before, List<Acknowledged> acknowledged)
    {
        using var http = demo.Client();
        var checkpoint = CheckpointVerifier.ForLogKeys(demo.Vkeys).Verify(await http.GetByteArrayAsync("/log/checkpoint")).Checkpoint;
        foreach (var answer in acknowledged)
        {
            Assert.True(answer.Index < checkpoint.Size, $"acknowledged entry {answer.Index} is beyond the recovered log (size {checkpoint.Size})");
            await Receipts.VerifyAsync(demo, answer.Index, answer.RequestNonce, answer.ResponseNonce, answer.Request, answer.Response);
        }

        var proof = await SiosCli.RunWithAsync(mount.Launcher, "log", "consistency", "--from", before.Size.ToString(CultureInfo.InvariantCulture),
            "--to", checkpoint.Size.ToString(CultureInfo.InvariantCulture), "--data", demo.Data);
        Assert.True(proof.ExitCode == 0, proof.Err);
        MerkleProofs.VerifyConsistency(before.Size, checkpoint.Size,
            [.. proof.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Convert.FromBase64String)], before.Root.ToArray(), checkpoint.Root.ToArray());

        var audit = await SiosCli.RunWithAsync(mount.Launcher, "log", "verify", "--data", demo.Data);
        Assert.True(audit.ExitCode == 0, $"the log does not audit clean after recovery: {audit.Out} {audit.Err}");

        // The rollback guard's record survived the failed writes whole (it is replaced by rename, never torn) and was renewed.
        var recorded = CheckpointVerifier.ForLogKeys(demo.Vkeys).Verify(Encoding.UTF8.GetBytes(
            await mount.ShAsync($"cat '{Path.Combine(demo.Data, "log", "published.checkpoint")}'"))).Checkpoint;
        Assert.InRange(recorded.Size, before.Size, checkpoint.Size);

        var after = new Tally();
        await SendAsync(demo, http, "after the repair", 0, after);
        Assert.Equal(1, after.Ok);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
    }

    /// <summary>One sealed request; a 200 must carry its receipt, anything else must be the seal's 503 without the answer.</summary>
    private static async Task SendAsync(ServedDemo demo, HttpClient http, string text, int i, Tally tally)
    {
        var (path, request) = (i % 3) switch
        {
            0 => ("/v1/completions", $$"""{"model":"demo","prompt":"{{text}}","max_tokens":2}"""),
            1 => ("/v1/chat/completions", $$"""{"model":"clinical","messages":[{"role":"user","content":"{{text}}"}],"max_tokens":2}"""),
            _ => ("/v1/embeddings", $$"""{"model":"ledger","input":"{{text}}"}"""),
        };
        var bytes = Encoding.UTF8.GetBytes(request);
        using var content = new ByteArrayContent(bytes) { Headers = { ContentType = new("application/json") } };
        using var response = await http.PostAsync(path, content);
        if (response.StatusCode == HttpStatusCode.OK)
        {
            var body = await response.Content.ReadAsByteArrayAsync();
            Assert.True(response.Headers.Contains("Sios-Log-Index"), $"an answer without Sios-Log-Index: {Encoding.UTF8.GetString(body)}");
            var answer = new Acknowledged(long.Parse(Receipts.Header(response.Headers, "Sios-Log-Index"), CultureInfo.InvariantCulture), bytes, body,
                Receipts.Header(response.Headers, "Sios-Request-Nonce"), Receipts.Header(response.Headers, "Sios-Response-Nonce"));
            await Receipts.VerifyAsync(demo, answer.Index, answer.RequestNonce, answer.ResponseNonce, answer.Request, answer.Response);
            tally.Sealed.Add(answer);
            tally.Ok++;
            return;
        }

        await AssertRefusedAsync(response);
        tally.Unavailable++;
    }

    private static async Task AssertRefusedAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"expected a sealed 200 or a 503, got {(int)response.StatusCode}: {text}");
        Assert.False(response.Headers.Contains("Sios-Log-Index"), "a refusal must not claim a seal");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var error = JsonDocument.Parse(text);
        Assert.Contains(error.RootElement.GetProperty("error").GetProperty("code").GetString(), (string[])["seal_unavailable", "seal_busy"]);
        Assert.DoesNotContain("choices", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\"embedding\"", text, StringComparison.Ordinal);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
