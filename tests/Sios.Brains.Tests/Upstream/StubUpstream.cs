using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Sios.Brains.Tests.Upstream;

/// <summary>One request the stub received.</summary>
internal sealed record StubRequest(string Path, string LocalAddress, string? Authorization, JsonElement Body);

/// <summary>
/// A tiny OpenAI-compatible server: an <see cref="HttpListener"/> on 127.0.0.1 (also as localhost) and 127.0.0.2 (same random port)
/// answering each request with whatever the test's <see cref="Respond"/> does.
/// </summary>
internal sealed class StubUpstream : IDisposable
{
    private readonly HttpListener _listener;
    private readonly Task _loop;

    private StubUpstream(HttpListener listener, int port)
    {
        _listener = listener;
        Port = port;
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }

    public ConcurrentQueue<StubRequest> Requests { get; } = new();

    public Func<HttpListenerContext, Task> Respond { get; set; } = c => Json(c, 200, "{}");

    public Uri Address(string ip = "127.0.0.1") => new($"http://{ip}:{Port}");

    public static StubUpstream Start()
    {
        for (var attempt = 0; ; attempt++)
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            listener.Prefixes.Add($"http://127.0.0.2:{port}/");
            listener.Prefixes.Add($"http://localhost:{port}/");
            try
            {
                listener.Start();
                return new StubUpstream(listener, port);
            }
            catch (HttpListenerException) when (attempt < 10)
            {
                listener.Close();
            }
        }
    }

    public static string Chunk(string? content = null, string? finish = null, string? role = null)
    {
        var delta = new Dictionary<string, object?>();
        if (role is not null)
        {
            delta["role"] = role;
        }

        if (content is not null)
        {
            delta["content"] = content;
        }

        var chunk = new
        {
            id = "chatcmpl-1",
            @object = "chat.completion.chunk",
            model = "stub-model",
            choices = new[] { new { index = 0, delta, finish_reason = finish } },
        };
        return "data: " + JsonSerializer.Serialize(chunk) + "\n\n";
    }

    public static string UsageChunk(int prompt, int completion) =>
        "data: " + JsonSerializer.Serialize(new
        {
            id = "chatcmpl-1",
            choices = Array.Empty<object>(),
            usage = new { prompt_tokens = prompt, completion_tokens = completion, total_tokens = prompt + completion },
        }) + "\n\n";

    public const string Done = "data: [DONE]\n\n";

    public static async Task Sse(HttpListenerContext c, IEnumerable<string> events, string contentType = "text/event-stream")
    {
        c.Response.StatusCode = 200;
        c.Response.ContentType = contentType;
        c.Response.SendChunked = true;
        foreach (var e in events)
        {
            var bytes = Encoding.UTF8.GetBytes(e);
            await c.Response.OutputStream.WriteAsync(bytes);
            await c.Response.OutputStream.FlushAsync();
        }

        c.Response.Close();
    }

    public static async Task Json(HttpListenerContext c, int status, string body, string contentType = "application/json")
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        c.Response.StatusCode = status;
        c.Response.ContentType = contentType;
        c.Response.ContentLength64 = bytes.Length;
        await c.Response.OutputStream.WriteAsync(bytes);
        c.Response.Close();
    }

    /// <summary>Streams one chunk, then a comment every 20 ms until the client goes away; completes <paramref name="aborted"/> then.</summary>
    public static async Task StreamUntilAborted(HttpListenerContext c, TaskCompletionSource aborted)
    {
        try
        {
            c.Response.ContentType = "text/event-stream";
            c.Response.SendChunked = true;
            var first = Encoding.UTF8.GetBytes(Chunk("first"));
            await c.Response.OutputStream.WriteAsync(first);
            await c.Response.OutputStream.FlushAsync();
            var keepAlive = Encoding.UTF8.GetBytes(": still generating\n\n");
            for (var i = 0; i < 3000; i++)
            {
                await Task.Delay(20);
                await c.Response.OutputStream.WriteAsync(keepAlive);
                await c.Response.OutputStream.FlushAsync();
            }
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException or SocketException)
        {
            aborted.TrySetResult();
        }
    }

    public void Dispose()
    {
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The accept loop ends with the listener's disposal exception.
        }
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(async () =>
            {
                try
                {
                    using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
                    var text = await reader.ReadToEndAsync();
                    using var doc = JsonDocument.Parse(text.Length == 0 ? "{}" : text);
                    Requests.Enqueue(new StubRequest(context.Request.Url!.AbsolutePath, context.Request.LocalEndPoint.Address.ToString(),
                        context.Request.Headers["Authorization"], doc.RootElement.Clone()));
                    await Respond(context);
                }
                catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
                {
                    // The client went away; the test observes that through its own signals.
                }
            });
        }
    }
}
