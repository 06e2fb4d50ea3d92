using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Sios.Verify.Merkle;
using Sios.Verify.Notes;
using Sios.Verify.Tiles;

namespace Sios.Verify.Audit;

/// <summary>
/// A log served over HTTP as tlog-tiles under <see cref="BaseUrl"/>: <c>checkpoint</c>, <c>tile/L/N[.p/W]</c> and
/// <c>tile/entries/N[.p/W]</c>. Every body is capped at the largest valid one of its kind and every request has its own
/// timeout, so a hostile server can neither exhaust memory nor stall a reader. A missing partial tile or bundle falls
/// back to the full one, truncated, as tlog-tiles allows. Trusts nothing it reads: callers verify.
/// </summary>
public sealed class HttpLogSource : IPublishedLog
{
    /// <summary>The timeout of one request when none is given.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private const int MaxEntryBytes = ushort.MaxValue;

    private readonly HttpClient _http;
    private readonly AuthenticationHeaderValue? _authorization;
    private readonly TimeSpan _timeout;
    private readonly int _maxCheckpointBytes;

    /// <summary>
    /// Reads the log at <paramref name="baseUrl"/> (the prefix <c>checkpoint</c> and <c>tile/</c> are under, e.g.
    /// <c>https://sios.example/log/</c>) through <paramref name="http"/>, which the caller owns. <paramref name="apiKey"/>,
    /// when given, goes with every request as a bearer token (SIOS serves its log only to auditor and admin keys).
    /// </summary>
    public HttpLogSource(HttpClient http, Uri baseUrl, string? apiKey = null, TimeSpan? timeout = null, NoteLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(baseUrl);
        if (!baseUrl.IsAbsoluteUri || (baseUrl.Scheme != Uri.UriSchemeHttp && baseUrl.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"'{baseUrl}' is not an http:// or https:// URL", nameof(baseUrl));
        }

        if (!string.IsNullOrEmpty(baseUrl.Query) || !string.IsNullOrEmpty(baseUrl.Fragment))
        {
            throw new ArgumentException($"'{baseUrl}' has a query or fragment; give the log's prefix alone", nameof(baseUrl));
        }

        _http = http;
        BaseUrl = baseUrl.AbsoluteUri.EndsWith('/') ? baseUrl : new Uri(baseUrl.AbsoluteUri + "/");
        _authorization = string.IsNullOrEmpty(apiKey) ? null : new AuthenticationHeaderValue("Bearer", apiKey);
        _timeout = timeout ?? DefaultTimeout;
        _maxCheckpointBytes = (limits ?? NoteLimits.Default).MaxNoteBytes;
    }

    /// <summary>The log's prefix, ending in '/'.</summary>
    public Uri BaseUrl { get; }

    /// <summary>GETs <c>checkpoint</c>.</summary>
    public async ValueTask<byte[]> ReadCheckpointAsync(CancellationToken cancellationToken) =>
        (await GetAsync("checkpoint", _maxCheckpointBytes, fallback: false, cancellationToken).ConfigureAwait(false))!;

    /// <summary>GETs the first <paramref name="width"/> hashes of a hash tile, from its partial or its full path.</summary>
    public async ValueTask<ReadOnlyMemory<byte>> ReadTileAsync(int level, long index, int width, CancellationToken cancellationToken)
    {
        var path = TilePath.Tile(level, index, width);
        var exact = await GetAsync(path, width * Rfc6962.HashSize, fallback: width < TilePath.FullWidth, cancellationToken).ConfigureAwait(false);
        if (exact is not null)
        {
            return exact;
        }

        var full = await GetAsync(TilePath.Tile(level, index, TilePath.FullWidth), TilePath.FullWidth * Rfc6962.HashSize, fallback: false, cancellationToken).ConfigureAwait(false);
        return full.AsMemory(0, Math.Min(full!.Length, width * Rfc6962.HashSize));
    }

    /// <summary>GETs entry bundle <paramref name="index"/> holding its first <paramref name="width"/> entries, from its partial or its full path.</summary>
    public async ValueTask<ReadOnlyMemory<byte>> ReadEntryBundleAsync(long index, int width, CancellationToken cancellationToken)
    {
        var path = TilePath.EntryBundle(index, width);
        var exact = await GetAsync(path, width * (2L + MaxEntryBytes), fallback: width < TilePath.FullWidth, cancellationToken).ConfigureAwait(false);
        if (exact is not null)
        {
            return exact;
        }

        var full = await GetAsync(TilePath.EntryBundle(index, TilePath.FullWidth), TilePath.FullWidth * (2L + MaxEntryBytes), fallback: false, cancellationToken).ConfigureAwait(false);
        return EntryBundle.Prefix(full, width);
    }

    /// <summary>GETs <paramref name="path"/> under the prefix; null on a 404 when the caller can <paramref name="fallback"/> to another path.</summary>
    private async Task<byte[]?> GetAsync(string path, long limit, bool fallback, CancellationToken cancellationToken)
    {
        var url = new Uri(BaseUrl, path);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = _authorization;
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound && fallback)
            {
                return null;
            }

            if (!response.IsSuccessStatusCode)
            {
                throw Refused(url, response.StatusCode);
            }

            if (response.Content.Headers.ContentLength > limit)
            {
                throw TooLarge(url, limit);
            }

            // Content-Length may be absent or lie: one byte past the cap proves the body longer than any valid one.
            var bytes = await HttpBodies.ReadCappedAsync(response.Content, checked((int)limit + 1), timeout.Token).ConfigureAwait(false);
            return bytes.Length > limit ? throw TooLarge(url, limit) : bytes;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new LogFetchException(url, $"GET {url}: no answer within {_timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s", null, transient: true);
        }
        catch (HttpRequestException e)
        {
            throw new LogFetchException(url, $"GET {url}: {e.Message}", null, transient: true, e);
        }
        catch (IOException e)
        {
            throw new LogFetchException(url, $"GET {url}: the connection failed mid-answer: {e.Message}", null, transient: true, e);
        }
    }

    private static LogFetchException TooLarge(Uri url, long limit) =>
        new(url, $"GET {url}: the answer is larger than any valid one of its kind ({limit.ToString(CultureInfo.InvariantCulture)} bytes)", null, transient: false);

    private static LogFetchException Refused(Uri url, HttpStatusCode status)
    {
        var code = (int)status;
        var why = status switch
        {
            HttpStatusCode.Unauthorized => ": the server wants an API key that may read the log (none was given, or it was not accepted)",
            HttpStatusCode.Forbidden => ": the API key given may not read the log (SIOS serves it to auditor and admin keys)",
            HttpStatusCode.NotFound => ": not served",
            _ => "",
        };

        // A missing tile may be a replica catching up and a 5xx or 429 may pass; a refused key will not fix itself.
        var transient = status is HttpStatusCode.NotFound or HttpStatusCode.TooManyRequests || code >= 500;
        return new LogFetchException(url, $"GET {url}: {code.ToString(CultureInfo.InvariantCulture)} {status}{why}", code, transient);
    }
}

/// <summary>A log could not be read over HTTP: the network, a timeout, a refusal or an oversized answer. Says nothing about the log's integrity.</summary>
public sealed class LogFetchException : Exception
{
    /// <summary>Creates the exception for a request to <paramref name="url"/>.</summary>
    public LogFetchException(Uri url, string message, int? status, bool transient, Exception? inner = null) : base(message, inner)
    {
        Url = url;
        Status = status;
        Transient = transient;
    }

    /// <summary>Creates the exception with no detail.</summary>
    public LogFetchException() { }

    /// <summary>Creates the exception with a message.</summary>
    public LogFetchException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and cause.</summary>
    public LogFetchException(string message, Exception inner) : base(message, inner) { }

    /// <summary>The URL requested.</summary>
    public Uri? Url { get; }

    /// <summary>The HTTP status answered, or null when there was no answer.</summary>
    public int? Status { get; }

    /// <summary>True when trying again later may succeed (network, timeout, 404, 429, 5xx); false for a refused key or an oversized answer.</summary>
    public bool Transient { get; }
}
