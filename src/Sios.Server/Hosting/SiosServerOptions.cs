using System.Text;

namespace Sios.Server.Hosting;

/// <summary>How the gateway listens and what it tolerates.</summary>
public sealed record SiosServerOptions
{
    /// <summary>The address to listen on when none is given: loopback only.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8080";

    /// <summary>Addresses to listen on (<c>http://host:port</c>; port 0 picks a free one).</summary>
    public IReadOnlyList<string> Urls { get; init; } = [DefaultUrl];

    /// <summary>A Unix domain socket for operator commands (key changes while serving); null for none.</summary>
    public string? ControlSocketPath { get; init; }

    /// <summary>
    /// The folder of in-flight request notes (see InflightJournal): a request that kills the process is sealed as
    /// <c>inference.interrupted</c> at the next start. Null keeps none.
    /// </summary>
    public string? InflightPath { get; init; }

    /// <summary>
    /// Refused requests (4xx before any answer) sealed per API key per minute; past it a refusal is still answered, but
    /// folded: not sealed on its own, and counted in the key's next sealed refusal (<c>folded</c>).
    /// </summary>
    public int RefusalsSealedPerMinute { get; init; } = 20;

    /// <summary>
    /// The web origins (<c>scheme://host[:port]</c>, exactly as browsers send them) whose pages may call the API from a
    /// browser: CORS preflights are answered for them and the receipt headers exposed to them. None by default.
    /// </summary>
    public IReadOnlyList<string> CorsOrigins { get; init; } = [];

    /// <summary>Largest request body accepted (413 above it).</summary>
    public long MaxRequestBodyBytes { get; init; } = 4 << 20;

    /// <summary>Longest an inference request may take, from its first byte to its seal.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a client may take to send its request headers (slow senders are cut off).</summary>
    public TimeSpan HeadersTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long graceful shutdown waits for in-flight requests before cutting them.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The software version sealed in <c>system.started</c> and <c>system.stopped</c>.</summary>
    public string Version { get; init; } = "";

    /// <summary>The outbound-connection policy in one line (<c>offline</c> or <c>allow HOST ...</c>), sealed with the version.</summary>
    public string EgressPolicy { get; init; } = "offline";

    /// <summary>The <c>sha256:</c> digest of the canonical configuration, sealed with the version.</summary>
    public string ConfigDigest { get; init; } = "";

    /// <summary>The witness policy's digest (<c>sha256:&lt;hex&gt;</c>) sealed in <c>system.started</c>, or null without a policy.</summary>
    public string? WitnessPolicyDigest { get; init; }

    /// <summary>This node's name among the nodes of a shared log (<c>HOST:ID</c>), sealed in <c>system.started</c> and shown in /healthz; null for a log with one node.</summary>
    public string? NodeId { get; init; }

    /// <summary>
    /// The config digest this data folder last served with, when known: a different <see cref="ConfigDigest"/> is
    /// sealed as <c>config.changed</c> just before <c>system.started</c>.
    /// </summary>
    public string? PreviousConfigDigest { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting.</summary>
    public void Validate()
    {
        if (Urls is null || Urls.Count == 0)
        {
            throw new ArgumentException("At least one address to listen on is needed.", nameof(Urls));
        }

        foreach (var url in Urls)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp || uri.AbsolutePath != "/")
            {
                throw new ArgumentException($"'{url}' is not an address to listen on: write http://HOST:PORT (TLS belongs in a reverse proxy in front of SIOS).", nameof(Urls));
            }
        }

        foreach (var origin in CorsOrigins ?? [])
        {
            CheckOrigin(origin);
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(MaxRequestBodyBytes, 1024);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(RequestTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(HeadersTimeout, TimeSpan.Zero);
    }

    /// <summary>
    /// Only the exact serialisation a browser puts in its <c>Origin</c> header can ever match it (lower-case scheme and
    /// host, no default port, no path), so any other spelling is refused with that form rather than silently never matching.
    /// </summary>
    private static void CheckOrigin(string origin)
    {
        if (origin.Contains('*', StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{origin}': a CORS origin cannot be a wildcard, or any web page a visitor opens could use this gateway; list each origin, e.g. --cors-origin https://app.example.com");
        }

        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || !Ascii.IsValid(origin))
        {
            throw new ArgumentException($"'{origin}' is not a web origin: write http:// or https://, then the host (in ASCII, as browsers send it) and an optional :PORT, e.g. https://app.example.com");
        }

        var canonical = $"{uri.Scheme}://{uri.Authority}";
        if (!string.Equals(origin, canonical, StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{origin}' is not a web origin as browsers send it: write scheme://host[:port], with no path, trailing slash or default port, here '{canonical}'");
        }
    }
}
