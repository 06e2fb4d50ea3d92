using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Sios.EndToEnd;

/// <summary>Slow clients are cut off, a brain whose weights changed is refused (and sealed) without taking the server down.</summary>
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
    public async Task A_brain_whose_weights_changed_is_refused_and_sealed_while_the_others_answer()
    {
        var demo = new ServedDemo
        {
            BeforeServe = demo =>
            {
                var adapter = Path.Combine(demo.Data, "brains", "contracts.lora.gguf");
                var bytes = File.ReadAllBytes(adapter);
                bytes[bytes.Length / 2] ^= 0x40;
                File.WriteAllBytes(adapter, bytes);
                return Task.CompletedTask;
            },
        };
        await demo.InitializeAsync();
        try
        {
            using var client = demo.Client();
            var refused = await client.PostAsync("/v1/chat/completions", Ask("contracts"));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            using (var error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()))
            {
                Assert.Equal("brain_refused", error.RootElement.GetProperty("error").GetProperty("code").GetString());
                Assert.Contains("contracts.lora.gguf", error.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
            }

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
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.PostAsync("/v1/chat/completions", Ask("contracts"))).StatusCode);
        }
        finally
        {
            await demo.DisposeAsync();
        }
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
