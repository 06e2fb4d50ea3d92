using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Sios.Tests.Tsa;
using Sios.Verify.Receipts;

namespace Sios.EndToEnd;

/// <summary>
/// RFC 3161 trusted time from outside the processes: <c>sios serve --tsa</c> against openssl acting as the TSA behind a
/// small HTTP handler on 127.0.0.1 (a throwaway CA, a TSA certificate with the critical timeStamping EKU). The
/// checkpoint a refetched receipt carries gets a token at <c>/log/timestamps/SIZE</c>, and <c>sios verify receipt
/// --tsa-cert --timestamp</c> accepts it, and refuses a token of another checkpoint or from another TSA.
/// </summary>
public sealed class TimestampingTests : IAsyncLifetime
{
    private readonly ServedDemo _demo = new();
    private OpenSslTsa? _tsa;
    private TsaHttpServer? _server;
    private (int ExitCode, string Out, string Err) _refused;

    public async Task InitializeAsync()
    {
        _tsa = await OpenSslTsa.CreateAsync();
        _server = TsaHttpServer.Create(_tsa);
        _server.Start();
        _demo.BeforeServe = async demo =>
        {
            // The TSA host must be allowed: without --egress the start is refused before anything is opened.
            _refused = await SiosCli.RunAsync("serve", "--data", demo.Data, "--urls", "http://127.0.0.1:0", "--tsa", _server.Url.ToString());
            demo.ServeArgs = ["--tsa", _server.Url.ToString(), "--egress", "127.0.0.1", "--tsa-interval", "1"];
        };
        await _demo.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await _demo.DisposeAsync();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _tsa?.Dispose();
    }

    [OpenSslFact]
    public async Task A_refetched_receipt_is_dated_by_the_token_of_its_checkpoint_and_no_other()
    {
        Assert.Equal(2, _refused.ExitCode);
        Assert.Contains("127.0.0.1 is not in the egress allow-list", _refused.Err, StringComparison.Ordinal);

        using var watchdog = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var created = await SiosCli.RunAsync("key", "create", "stamped", "--brains", "*", "--data", _demo.Data);
        Assert.True(created.ExitCode == 0, created.Err);
        using var user = _demo.Client(created.Out.Trim());
        using var answer = await user.PostAsync("/v1/chat/completions", new StringContent(
            JsonSerializer.Serialize(new { model = "demo", max_tokens = 2, messages = new[] { new { role = "user", content = "what time is it?" } } }), Encoding.UTF8, "application/json"), watchdog.Token);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var index = Receipts.Header(answer.Headers, "Sios-Log-Index");

        // A user key may fetch the token over the checkpoint its own receipt carries, once the stage has stamped it.
        byte[] receipt, token;
        long size;
        while (true)
        {
            receipt = await user.GetByteArrayAsync($"/log/receipts/{index}", watchdog.Token);
            size = new ReceiptVerifier(_demo.Vkeys).Verify(receipt).Checkpoint.Checkpoint.Size;
            using var stamped = await user.GetAsync($"/log/timestamps/{size}", watchdog.Token);
            if (stamped.StatusCode == HttpStatusCode.OK)
            {
                Assert.Equal("application/octet-stream", stamped.Content.Headers.ContentType?.MediaType);
                token = await stamped.Content.ReadAsByteArrayAsync(watchdog.Token);
                break;
            }

            Assert.Equal(HttpStatusCode.NotFound, stamped.StatusCode);
            Assert.False(watchdog.IsCancellationRequested, "the receipt's checkpoint was never stamped: " + _demo.Stderr);
            await Task.Delay(300, watchdog.Token);
        }

        var receiptFile = Path.Combine(_demo.Root, "answer.tlog-proof");
        var tokenFile = Path.Combine(_demo.Root, "answer.tst");
        await File.WriteAllBytesAsync(receiptFile, receipt, watchdog.Token);
        await File.WriteAllBytesAsync(tokenFile, token, watchdog.Token);
        string[] vkeys = [.. _demo.Vkeys.SelectMany(k => new[] { "--vkey", k.ToString() })];

        var valid = await SiosCli.RunAsync(["verify", "receipt", receiptFile, .. vkeys, "--tsa-cert", _tsa!.TsaPem, "--timestamp", tokenFile]);
        Assert.True(valid.ExitCode == 0, valid.Err);
        Assert.Contains($"time-stamped: the checkpoint at tree size {size} existed by ", valid.Err, StringComparison.Ordinal);
        Assert.Equal(Encoding.UTF8.GetString(new ReceiptVerifier(_demo.Vkeys).Verify(receipt).Entry), valid.Out);
        var underCa = await SiosCli.RunAsync(["verify", "receipt", receiptFile, .. vkeys, "--tsa-cert", _tsa.CaPem, "--timestamp", tokenFile]);
        Assert.True(underCa.ExitCode == 0, underCa.Err);

        // The token of another checkpoint (the one stamped at start), fetched the same way, dates another hash.
        var other = Directory.GetFiles(Path.Combine(_demo.Data, "log", "timestamps"), "*.tst")
            .Select(f => long.Parse(Path.GetFileNameWithoutExtension(f), CultureInfo.InvariantCulture)).First(s => s != size);
        var otherFile = Path.Combine(_demo.Root, "other.tst");
        await File.WriteAllBytesAsync(otherFile, await user.GetByteArrayAsync($"/log/timestamps/{other}", watchdog.Token), watchdog.Token);
        var wrong = await SiosCli.RunAsync(["verify", "receipt", receiptFile, .. vkeys, "--tsa-cert", _tsa.TsaPem, "--timestamp", otherFile]);
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains($"time-stamp token {otherFile} does not date this receipt's checkpoint (tree size {size}): it dates another hash", wrong.Err, StringComparison.Ordinal);
        Assert.Equal("", wrong.Out);

        // Under another TSA's certificate the right token is refused too.
        using (var stranger = await OpenSslTsa.CreateAsync())
        {
            var untrusted = await SiosCli.RunAsync(["verify", "receipt", receiptFile, .. vkeys, "--tsa-cert", stranger.CaPem, "--timestamp", tokenFile]);
            Assert.Equal(1, untrusted.ExitCode);
            Assert.Contains("does not chain to one", untrusted.Err, StringComparison.Ordinal);
        }

        // One option without the other is a usage error.
        Assert.Equal(2, (await SiosCli.RunAsync(["verify", "receipt", receiptFile, .. vkeys, "--tsa-cert", _tsa.TsaPem])).ExitCode);
        Assert.Equal(2, (await SiosCli.RunAsync(["verify", "receipt", receiptFile, .. vkeys, "--timestamp", tokenFile])).ExitCode);

        // No token for a size never stamped; none without a key.
        Assert.Equal(HttpStatusCode.NotFound, (await user.GetAsync("/log/timestamps/999999", watchdog.Token)).StatusCode);
        using var anonymous = new HttpClient { BaseAddress = _demo.Url };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/log/timestamps/{size}", watchdog.Token)).StatusCode);
    }
}
