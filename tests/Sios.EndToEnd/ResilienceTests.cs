using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Sios.EndToEnd;

/// <summary>
/// Slow clients are cut off, a brain whose weights changed or cannot load is refused (and sealed) without taking the
/// server down, and clients that leave mid-answer cost one log line each.
/// </summary>
public sealed class ResilienceTests
{
    private static StringContent Ask(string brain) =>
        new($$"""{"model":"{{brain}}","messages":[{"role":"user","content":"Hi"}],"max_tokens":3}""", Encoding.UTF8, "application/json");

    [Fact]
    public async Task Slowloris_headers_and_trickled_bodies_are_cut_off_and_the_server_serves_on()
    {
        var demo = new ServedDemo { ServeArgs = ["--headers-timeout", "2"] };
        await demo.InitializeAsync();
        try
        {
            var watch = Stopwatch.StartNew();
            var headers = TrickleAsync(demo.Url, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Slow: ", TimeSpan.FromSeconds(1));
            var body = TrickleAsync(demo.Url,
                $"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {demo.AdminKey}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{",
                TimeSpan.FromSeconds(1));
            var (headersClosed, bodyClosed) = (await headers, await body);
            Assert.True(headersClosed, "a client trickling its headers was not cut off");
            Assert.True(bodyClosed, "a client trickling its body was not cut off");
            // Each trickle gives up after about 40 s of one-byte writes; the 2 s limits must cut both long before that.
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"cut off only after {watch.Elapsed}");

            using var client = demo.Client();
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/chat/completions", Ask("clinical"))).StatusCode);
        }
        finally
        {
            await demo.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_brain_that_cannot_load_is_refused_for_good_and_sealed_while_the_others_answer_and_clients_may_leave()
    {
        var demo = new ServedDemo
        {
            ServeArgs = ["--verbose"],
            BeforeServe = async demo =>
            {
                var adapter = Path.Combine(demo.Data, "brains", "contracts.lora.gguf");
                var bytes = await File.ReadAllBytesAsync(adapter);
                bytes[bytes.Length / 2] ^= 0x40;
                await File.WriteAllBytesAsync(adapter, bytes);
                // A well-formed GGUF model header with no weights behind it: registrable, but llama.cpp cannot load it.
                var hollow = Path.Combine(demo.Data, "brains", "hollow.gguf");
                new Brains.Synth.GgufWriter().AddString("general.architecture", "llama").AddString("general.type", "model").WriteTo(hollow);
                var added = await SiosCli.RunAsync("brain", "add", "hollow", "--model", hollow, "--data", demo.Data);
                Assert.True(added.ExitCode == 0, added.Err);
            },
        };
        await demo.InitializeAsync();
        try
        {
            using var client = demo.Client();
            var refused = await client.PostAsync("/v1/chat/completions", Ask("contracts"));
            await AssertPermanentAsync(refused, "brain_refused", demo);

            // Weights llama.cpp rejects: the same for good, and the operator's log says why in one line.
            var hollow = await client.PostAsync("/v1/chat/completions", Ask("hollow"));
            await AssertPermanentAsync(hollow, "brain_load_failed", demo);
            Assert.Contains("answered 424: brain 'hollow' could not be loaded: llama.cpp could not load", demo.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", demo.Stderr, StringComparison.Ordinal);

            var index = long.Parse(Receipts.Header(refused.Headers, "Sios-Log-Index"), System.Globalization.CultureInfo.InvariantCulture);
            var types = new List<string>();
            for (var i = index - 1; i <= index; i++)
            {
                var receipt = new Verify.Receipts.ReceiptVerifier(demo.Vkeys).Verify(await client.GetByteArrayAsync($"/log/receipts/{i}"));
                using var entry = JsonDocument.Parse(receipt.Entry);
                types.Add(entry.RootElement.GetProperty("type").GetString()!);
            }

            Assert.Equal(["brain.refused", "inference"], types);
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/chat/completions", Ask("clinical"))).StatusCode);
            Assert.Equal(HttpStatusCode.FailedDependency, (await client.PostAsync("/v1/chat/completions", Ask("contracts"))).StatusCode);

            // Clients that leave mid-generation: sealed as cancelled, one line each, never a 500 or a stack trace.
            foreach (var stream in new[] { false, true, false, true })
            {
                await LeaveMidAnswerAsync(demo, stream);
            }

            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (!demo.Stderr.Contains("the client went away", StringComparison.Ordinal))
            {
                await Task.Delay(100, deadline.Token);
            }

            Assert.DoesNotContain("OperationCanceledException", demo.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("failed with 500", demo.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", demo.Stderr, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/chat/completions", Ask("clinical"))).StatusCode);
        }
        finally
        {
            await demo.DisposeAsync();
        }
    }

    /// <summary>
    /// A failure that retrying cannot mend: 424 (which OpenAI's SDKs do not retry) without Retry-After, sealed, and a
    /// message that names the brain but no file of the server's.
    /// </summary>
    private static async Task AssertPermanentAsync(HttpResponseMessage response, string code, ServedDemo demo)
    {
        Assert.Equal(HttpStatusCode.FailedDependency, response.StatusCode);
        Assert.Null(response.Headers.RetryAfter);
        Assert.True(response.Headers.Contains("Sios-Log-Index"), "the refusal is sealed like any answer");
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var body = error.RootElement.GetProperty("error");
        Assert.Equal(code, body.GetProperty("code").GetString());
        Assert.Equal("server_error", body.GetProperty("type").GetString());
        var message = body.GetProperty("message").GetString()!;
        Assert.DoesNotContain(demo.Root, message, StringComparison.Ordinal);
        Assert.DoesNotContain(".gguf", message, StringComparison.Ordinal);
    }

    /// <summary>Asks for a long answer on a raw connection and closes it as soon as the request is sent.</summary>
    private static async Task LeaveMidAnswerAsync(ServedDemo demo, bool stream)
    {
        var body = $$"""{"model":"clinical","messages":[{"role":"user","content":"Tell me everything"}],"max_tokens":400,"stream":{{(stream ? "true" : "false")}}}""";
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, demo.Url.Port);
        await socket.SendAsync(Encoding.ASCII.GetBytes(
            $"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {demo.AdminKey}\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n{body}"));
        await Task.Delay(20);
        socket.Close();
    }

    /// <summary>Sends <paramref name="start"/>, then one byte per <paramref name="every"/>; true when the server closes the connection.</summary>
    private static async Task<bool> TrickleAsync(Uri url, string start, TimeSpan every)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, url.Port);
        await using var stream = new NetworkStream(socket);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(start));
        var buffer = new byte[4096];
        for (var i = 0; i < 40; i++)
        {
            try
            {
                await stream.WriteAsync("a"u8.ToArray());
                using var wait = new CancellationTokenSource(every);
                var read = await stream.ReadAsync(buffer, wait.Token);
                if (read == 0 || Encoding.ASCII.GetString(buffer, 0, read).StartsWith("HTTP/1.1 408", StringComparison.Ordinal))
                {
                    return true;
                }
            }
            catch (OperationCanceledException)
            {
                // Nothing yet from the server: keep trickling.
            }
            catch (IOException)
            {
                return true;
            }
        }

        return false;
    }
}
