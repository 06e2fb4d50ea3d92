using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Sios.Witness;

/// <summary>Where and how a witness listens.</summary>
public sealed record WitnessServerOptions
{
    /// <summary>The default address: loopback only.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8081";

    /// <summary>Addresses (<c>http://IP:port</c>; port 0 picks a free one).</summary>
    public IReadOnlyList<string> Urls { get; init; } = [DefaultUrl];

    /// <summary>Largest request body: 63 proof lines are under 3 KiB, a SIOS checkpoint mid-rotation about 20 KiB.</summary>
    public long MaxRequestBodyBytes { get; init; } = 128 << 10;

    /// <summary>Longest a client may take to send a request's headers and its body.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Serves the console's file (second argument) at <c>/console/</c>, given by the host that embeds the console; null
    /// serves none. The witness's page is <c>witness.html</c>.
    /// </summary>
    public Func<HttpContext, string, Task>? Console { get; init; }
}

/// <summary>
/// The witness over HTTP (c2sp.org/tlog-witness, submission and monitoring prefix both the root):
/// <c>POST /add-checkpoint</c> and <c>GET /HEX(SHA-256(origin))/checkpoint</c>, the latest cosigned note of a log; and,
/// when asked, its console at <c>/console/</c> with what that reads under <c>/witness/</c>.
/// </summary>
public sealed class WitnessServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private WitnessServer(WebApplication app) => _app = app;

    /// <summary>The addresses bound (with the real port where 0 was asked), once started.</summary>
    public IReadOnlyList<string> Addresses =>
        [.. _app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? []];

    /// <summary>
    /// Builds the server; nothing listens until <see cref="StartAsync"/>. With <paramref name="pages"/> (the folder and
    /// its state) it also serves what the console reads (<see cref="WitnessPages"/>).
    /// </summary>
    public static WitnessServer Create(WitnessServerOptions options, AddCheckpointHandler handler, (WitnessFolder Folder, WitnessState State)? pages = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(handler);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "sios-witness", ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            kestrel.Limits.RequestHeadersTimeout = options.RequestTimeout;
            foreach (var url in options.Urls)
            {
                var uri = new Uri(url);
                kestrel.Listen(IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) ? ip
                    : throw new ArgumentException($"listen on an IP address (e.g. http://127.0.0.1:{uri.Port}), not '{uri.Host}'"), uri.Port);
            }
        });
        var app = builder.Build();
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException && e is not OutOfMemoryException)
            {
                // Host logging is off (its default output mixes with the result on stdout): the operator still needs to know.
                Console.Error.Write($"witness: {context.Request.Method} {context.Request.Path} failed: {e.GetType().Name}: {e.Message}\n");
                if (!context.Response.HasStarted)
                {
                    await WriteAsync(context, WitnessResponse.Text(500, "the witness could not handle the request; its operator's log says why")).ConfigureAwait(false);
                }
            }
        });
        app.MapPost("/add-checkpoint", async context =>
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            timeout.CancelAfter(options.RequestTimeout);
            var body = new MemoryStream();
            try
            {
                await context.Request.Body.CopyToAsync(body, timeout.Token).ConfigureAwait(false);
            }
            catch (BadHttpRequestException e)
            {
                await WriteAsync(context, WitnessResponse.Text(e.StatusCode, $"request body refused: {e.Message}")).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !context.RequestAborted.IsCancellationRequested)
            {
                await WriteAsync(context, WitnessResponse.Text(408, $"the request body took longer than {options.RequestTimeout.TotalSeconds:0} s")).ConfigureAwait(false);
                return;
            }

            await WriteAsync(context, await handler.AddCheckpointAsync(body.GetBuffer().AsMemory(0, (int)body.Length), context.RequestAborted).ConfigureAwait(false)).ConfigureAwait(false);
        });
        app.MapGet("/{originHash}/checkpoint", (HttpContext context, string originHash) =>
            WriteAsync(context, handler.LatestCheckpoint(originHash) is { } note
                ? new WitnessResponse(200, "text/plain; charset=utf-8", note)
                : WitnessResponse.Text(404, "this witness has cosigned no checkpoint of that log")));
        if (pages is { } shown)
        {
            app.MapWitnessPages(shown.Folder, shown.State);
        }

        if (options.Console is { } console)
        {
            app.MapGet("/console/{file?}", (HttpContext context, string? file) =>
            {
                if (file is null && !context.Request.Path.Value!.EndsWith('/'))
                {
                    context.Response.Redirect("/console/");
                    return Task.CompletedTask;
                }

                return console(context, file ?? "witness.html");
            });
        }

        return new WitnessServer(app);
    }

    /// <summary>Starts listening.</summary>
    public Task StartAsync(CancellationToken ct = default) => _app.StartAsync(ct);

    /// <summary>Completes when the host is asked to stop (SIGTERM, Ctrl+C) and has stopped.</summary>
    public Task WaitForShutdownAsync(CancellationToken ct = default) => _app.WaitForShutdownAsync(ct);

    /// <summary>Stops and releases the host.</summary>
    public async ValueTask DisposeAsync() => await _app.DisposeAsync().ConfigureAwait(false);

    private static Task WriteAsync(HttpContext context, WitnessResponse response)
    {
        context.Response.StatusCode = response.Status;
        context.Response.ContentType = response.ContentType;
        context.Response.ContentLength = response.Body.Length;
        return context.Response.Body.WriteAsync(response.Body).AsTask();
    }
}
