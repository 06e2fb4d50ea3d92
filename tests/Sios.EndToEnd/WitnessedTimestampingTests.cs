using System.Net;
using System.Text;
using System.Text.Json;
using Sios.Tests.Tsa;
using Sios.Verify.Receipts;

namespace Sios.EndToEnd;

/// <summary>
/// <c>sios serve --tsa</c> together with <c>--witness-policy</c> (two <c>sios witness serve</c> processes, a quorum of
/// both, openssl as the TSA): the checkpoint stamped is the witnessed one the log publishes, so a receipt fetched again
/// once witnessed, with the witnesses' cosignature lines, is dated by the token at <c>/log/timestamps/SIZE</c> and
/// verifies under the policy and the TSA's certificate at once; <c>/healthz</c> and <c>/metrics</c> show the stage.
/// </summary>
public sealed class WitnessedTimestampingTests : IAsyncLifetime
{
    private readonly ServedDemo _demo = new();
    private readonly List<WitnessProcess> _witnesses = [];
    private OpenSslTsa? _tsa;
    private TsaHttpServer? _server;
    private string _policy = "";

    public async Task InitializeAsync()
    {
        _tsa = await OpenSslTsa.CreateAsync();
        _server = TsaHttpServer.Create(_tsa);
        _server.Start();
        _demo.BeforeServe = async demo =>
        {
            _policy = await WitnessProcess.StartPairAsync(demo, _witnesses);
            demo.ServeArgs = ["--witness-policy", _policy, "--witness-interval", "1", "--tsa", _server.Url.ToString(), "--tsa-interval", "1", "--egress", "127.0.0.1"];
        };
        await _demo.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await _demo.DisposeAsync();
        foreach (var witness in _witnesses)
        {
            await witness.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _tsa?.Dispose();
    }

    [OpenSslFact]
    public async Task The_witnessed_checkpoint_of_a_refetched_receipt_is_stamped_and_verifies_under_the_policy_and_the_TSA()
    {
        using var watchdog = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        using var client = _demo.Client();
        using var answer = await client.PostAsync("/v1/chat/completions", new StringContent(
            JsonSerializer.Serialize(new { model = "demo", max_tokens = 2, messages = new[] { new { role = "user", content = "witnessed, then dated" } } }), Encoding.UTF8, "application/json"), watchdog.Token);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var index = Receipts.Header(answer.Headers, "Sios-Log-Index");

        // Witnessing comes first and the stage stamps what is then published: the receipt is fetched again until it
        // proves against a checkpoint with the witnesses' lines, and that checkpoint has its token.
        byte[] receipt, token;
        long size;
        while (true)
        {
            Assert.False(watchdog.IsCancellationRequested, "the witnessed checkpoint of the receipt was never stamped: " + _demo.Stderr);
            receipt = await client.GetByteArrayAsync($"/log/receipts/{index}", watchdog.Token);
            size = new ReceiptVerifier(_demo.Vkeys).Verify(receipt).Checkpoint.Checkpoint.Size;
            if (Encoding.UTF8.GetString(receipt).Contains("\u2014 witness.example/", StringComparison.Ordinal))
            {
                using var stamped = await client.GetAsync($"/log/timestamps/{size}", watchdog.Token);
                if (stamped.StatusCode == HttpStatusCode.OK)
                {
                    token = await stamped.Content.ReadAsByteArrayAsync(watchdog.Token);
                    break;
                }

                Assert.Equal(HttpStatusCode.NotFound, stamped.StatusCode);
            }

            await Task.Delay(300, watchdog.Token);
        }

        var receiptFile = Path.Combine(_demo.Root, "witnessed.tlog-proof");
        var tokenFile = Path.Combine(_demo.Root, "witnessed.tst");
        await File.WriteAllBytesAsync(receiptFile, receipt, watchdog.Token);
        await File.WriteAllBytesAsync(tokenFile, token, watchdog.Token);
        var verified = await SiosCli.RunAsync("verify", "receipt", receiptFile, "--policy", _policy, "--tsa-cert", _tsa!.CaPem, "--timestamp", tokenFile);
        Assert.True(verified.ExitCode == 0, verified.Err);
        Assert.Contains("quorum 'both' met", verified.Err, StringComparison.Ordinal);
        Assert.Contains($"time-stamped: the checkpoint at tree size {size} existed by ", verified.Err, StringComparison.Ordinal);

        // /healthz names the TSA by scheme, host and port (not its path) and shows the stamped size; /metrics counts it.
        using var health = JsonDocument.Parse(await client.GetStringAsync("/healthz", watchdog.Token));
        var timestamping = health.RootElement.GetProperty("timestamping");
        Assert.Equal($"http://127.0.0.1:{_server!.Port}", timestamping.GetProperty("tsa").GetString());
        Assert.Equal("stamping", timestamping.GetProperty("state").GetString());
        Assert.Equal(size, timestamping.GetProperty("stamped_size").GetInt64());
        Assert.InRange(timestamping.GetProperty("tokens").GetInt64(), 1, _server.Requests);
        Assert.Equal(size, health.RootElement.GetProperty("witnessing").GetProperty("witnessed_size").GetInt64());
        Assert.Contains("sios_tsa_tokens", await client.GetStringAsync("/metrics", watchdog.Token), StringComparison.Ordinal);
    }
}
