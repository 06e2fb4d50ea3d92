using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using OpenTelemetry.Metrics;
using Sios.Verify.Entries;
using Sios.Server.Control;
using Sios.Server.Health;
using Sios.Server.Doors.Ollama;
using Sios.Server.Doors.OpenAi;
using Sios.Server.Http;
using Sios.Server.Inference;
using Sios.Server.Log;
using Sios.Server.Vault;
using Sios.Ledger.Durable;

namespace Sios.Server.Hosting;

/// <summary>
/// The gateway: Kestrel on the configured addresses (loopback by default) with the OpenAI and Ollama routes, the log routes,
/// health and metrics, and the operator's control socket. Start seals <c>system.started</c> before any request is
/// served; stop drains in-flight requests, then seals <c>system.stopped</c>. The caller owns the services (log,
/// pool) and disposes them after <see cref="StopAsync"/>.
/// </summary>
public sealed class SiosServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly SiosServices _services;
    private readonly SiosServerOptions _options;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private VaultJanitor? _janitor;
    private bool _started;
    private bool _stopped;

    private SiosServer(WebApplication app, SiosServices services, SiosServerOptions options)
    {
        _app = app;
        _services = services;
        _options = options;
    }

    /// <summary>The TCP addresses actually bound (with the real port where 0 was asked), once started; not the control socket.</summary>
    public IReadOnlyList<string> Addresses =>
        [.. (_app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [])
            .Where(a => !a.StartsWith("http://unix:", StringComparison.Ordinal))];

    /// <summary>Fires when the host is asked to stop (SIGTERM, Ctrl+C).</summary>
    public CancellationToken Stopping => _app.Lifetime.ApplicationStopping;

    /// <summary>Builds the gateway; nothing listens until <see cref="StartAsync"/>.</summary>
    /// <exception cref="ArgumentException">An option is invalid (named in the message).</exception>
    public static SiosServer Create(SiosServerOptions options, SiosServices services, LogLevel logLevel = LogLevel.Information)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(services);
        options.Validate();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "sios", ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(logLevel);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        // The host logs a failed start ("Hosting failed to start", a port in use) with its stack trace, then throws
        // it to StartAsync's caller, which reports it in one line: the log line would only repeat it at length.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        builder.Logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            console.UseUtcTimestamp = true;
        });
        // Logs are messages, not results: all of them go to stderr.
        builder.Services.Configure<ConsoleLoggerOptions>(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            kestrel.Limits.RequestHeadersTimeout = options.HeadersTimeout;
            kestrel.Limits.KeepAliveTimeout = TimeSpan.FromMinutes(2);
            kestrel.Limits.MaxRequestHeadersTotalSize = 32 << 10;
            // Before the endpoints: each takes the defaults as it is added.
            kestrel.ConfigureEndpointDefaults(KestrelRejections.WatchOutput);
            foreach (var url in options.Urls)
            {
                Listen(kestrel, new Uri(url));
            }

            if (options.ControlSocketPath is { } socket)
            {
                // Whoever can connect can make admin keys: the socket's folder is the operator's alone.
                DurableFile.CreateDirectory(Path.GetDirectoryName(socket)!);
                // A socket file left by a killed server: this process holds the log's writer lock, so no live server owns it.
                File.Delete(socket);
                kestrel.ListenUnixSocket(socket);
            }
        });
        builder.Host.ConfigureHostOptions(host => host.ShutdownTimeout = options.ShutdownTimeout);
        builder.Services.AddSingleton(services);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<SiosMetrics>();
        builder.Services.AddSingleton(provider => new InferenceSealer(services.Log, services.CommitmentSecret, provider.GetRequiredService<SiosMetrics>(), services.Clock));
        builder.Services.AddSingleton(new Access.KeyRateLimiter(services.Clock, options.RefusalsSealedPerMinute, services.Budgets));
        // Its own key, derived from the commitment secret by a purpose no nonce input can take.
        builder.Services.AddSingleton(new InflightJournal(options.InflightPath, System.Security.Cryptography.HMACSHA256.HashData(services.CommitmentSecret, "sios/inflight-note/v1"u8)));
        builder.Services.AddSingleton<InferenceHandler>();
        // Stored responses claim vault content under a key of their own, derived from the commitment secret by a purpose no nonce input can take.
        builder.Services.AddSingleton(new ResponsesDoor(services.Vault is { } vault
            ? new StoredResponses(vault, System.Security.Cryptography.HMACSHA256.HashData(services.CommitmentSecret, "sios/stored-responses/v1"u8))
            : null));
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(SiosMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel")
            .AddPrometheusExporter());

        var app = builder.Build();
        var server = new SiosServer(app, services, options);
        if (services.Witnessing is { } witnessing)
        {
            app.Services.GetRequiredService<SiosMetrics>().Observe(witnessing);
        }

        if (services.Timestamping is { } timestamping)
        {
            app.Services.GetRequiredService<SiosMetrics>().Observe(timestamping);
        }

        // Outside the error middleware, so that the errors it writes carry the CORS headers too.
        app.UseCorsPolicy(options.CorsOrigins);
        app.UseApiErrors(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Sios.Server"));
        app.Use(async (context, next) =>
        {
            // No request is served before system.started is sealed.
            await server._ready.Task.WaitAsync(context.RequestAborted).ConfigureAwait(false);
            await next(context).ConfigureAwait(false);
        });
        app.MapOpenAi();
        app.MapOllama();
        app.MapLog();
        app.MapHealth();
        app.MapStatus();
        app.MapAdmin();
        Console.ConsoleEndpoints.MapConsole(app);
        app.MapControl();
        return server;
    }

    /// <summary>
    /// Binds the addresses, seals <c>config.changed</c> when the config differs from the previous start's, then
    /// <c>system.started</c> (version, config digest, addresses), purges the vault past its retention (sealed), then
    /// serves; the vault is purged again daily while serving.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        _started = true;
        var addresses = Addresses;
        if (_options.PreviousConfigDigest is { } previous && !string.Equals(previous, _options.ConfigDigest, StringComparison.Ordinal))
        {
            var changed = new ConfigChangedEntry(_options.ConfigDigest, previous).Write(_services.Clock);
            await _services.Log.AppendAsync(changed, cancellationToken).ConfigureAwait(false);
        }

        // Requests the last run died answering are sealed first, so the record says what was running when it stopped.
        await _app.Services.GetRequiredService<InflightJournal>()
            .RecoverAsync((entry, ct) => _services.Log.AppendAsync(entry, ct), _services.Clock, cancellationToken).ConfigureAwait(false);
        await SealLifecycleAsync(static gateway => new SystemStartedEntry(gateway), addresses, cancellationToken).ConfigureAwait(false);
        if (_services.Vault is { } vault)
        {
            var logger = _app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<VaultJanitor>();
            _janitor = await VaultJanitor.StartAsync(vault, (entry, ct) => _services.Log.AppendAsync(entry, ct), _services.Clock, logger, cancellationToken).ConfigureAwait(false);
        }

        _ready.TrySetResult();
    }

    /// <summary>Stops accepting, waits for in-flight requests (up to the shutdown timeout), then seals <c>system.stopped</c>.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (_stopped || !_started)
        {
            return;
        }

        _stopped = true;
        _ready.TrySetCanceled(CancellationToken.None);
        await _app.StopAsync(cancellationToken).ConfigureAwait(false);
        if (_janitor is not null)
        {
            await _janitor.DisposeAsync().ConfigureAwait(false);
        }

        await SealLifecycleAsync(static gateway => new SystemStoppedEntry(gateway), Addresses, CancellationToken.None).ConfigureAwait(false);
        if (_options.ControlSocketPath is { } socket)
        {
            File.Delete(socket);
        }
    }

    /// <summary>Stops if still running and releases the host.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync().ConfigureAwait(false);
        }
        finally
        {
            await _app.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task SealLifecycleAsync(Func<GatewayFacts, TypedEntry> entry, IReadOnlyList<string> addresses, CancellationToken cancellationToken)
    {
        var gateway = new GatewayFacts(_options.Version, _options.ConfigDigest, _options.EgressPolicy, addresses) { WitnessPolicy = _options.WitnessPolicyDigest, Node = _options.NodeId };
        await _services.Log.AppendAsync(entry(gateway).Write(_services.Clock), cancellationToken).ConfigureAwait(false);
    }

    private static void Listen(Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions kestrel, Uri url)
    {
        var host = url.Host.Trim('[', ']');
        if (IPAddress.TryParse(host, out var address))
        {
            kestrel.Listen(address, url.Port);
        }
        else if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            kestrel.Listen(IPAddress.Loopback, url.Port);
        }
        else
        {
            throw new ArgumentException($"Listen on an IP address (e.g. http://127.0.0.1:{url.Port} or http://0.0.0.0:{url.Port}), not the host name '{url.Host}'.");
        }
    }
}
