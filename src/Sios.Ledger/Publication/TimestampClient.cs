using System.Net.Http.Headers;
using Sios.Verify;

namespace Sios.Ledger.Publication;

/// <summary>A TSA's answer to a time-stamp query: its status and body, or (status 0) why none came.</summary>
/// <param name="Status">The HTTP status; 0 when the TSA could not be reached, did not answer in time, or answered too much.</param>
/// <param name="Body">The response body: a DER TimeStampResp when the TSA is well behaved.</param>
/// <param name="Error">For status 0, what went wrong.</param>
public sealed record TimestampReply(int Status, byte[] Body, string? Error = null);

/// <summary>Sends RFC 3161 time-stamp queries to a TSA. The time-stamping stage's one way out.</summary>
public interface ITimestampClient
{
    /// <summary>Sends a DER TimeStampReq; never throws for the TSA's failure.</summary>
    Task<TimestampReply> RequestAsync(byte[] query, CancellationToken cancellationToken);
}

/// <summary>
/// RFC 3161 §3.4 over HTTP: the query is POSTed as <c>application/timestamp-query</c> and the reply read as
/// <c>application/timestamp-reply</c>. Connections go through the handler it is given (the node passes the egress
/// allow-list's), every request has its own deadline, and a reply over <see cref="MaxResponseBytes"/> is refused unread.
/// </summary>
public sealed class HttpTimestampClient : ITimestampClient, IDisposable
{
    /// <summary>Largest reply read: a TimeStampResp with its TSA's certificate chain is a few kilobytes.</summary>
    public const int MaxResponseBytes = 64 * 1024;

    private readonly HttpClient _http;
    private readonly Uri _url;
    private readonly TimeSpan _timeout;

    /// <summary>Creates a client of the TSA at <paramref name="url"/> over <paramref name="handler"/> (owned from here on) with a per-request <paramref name="timeout"/>.</summary>
    public HttpTimestampClient(Uri url, HttpMessageHandler handler, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _url = url;
        _timeout = timeout;
    }

    /// <inheritdoc/>
    public async Task<TimestampReply> RequestAsync(byte[] query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_timeout);
        try
        {
            using var content = new ByteArrayContent(query);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/timestamp-query");
            using var request = new HttpRequestMessage(HttpMethod.Post, _url) { Content = content };
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/timestamp-reply"));
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token).ConfigureAwait(false);
            var body = await HttpBodies.ReadCappedAsync(response.Content, MaxResponseBytes + 1, deadline.Token).ConfigureAwait(false);
            return body.Length > MaxResponseBytes
                ? new TimestampReply(0, [], $"{_url} answered more than {MaxResponseBytes} bytes: not a time-stamp reply")
                : new TimestampReply((int)response.StatusCode, body);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new TimestampReply(0, [], $"no answer from {_url} within {_timeout.TotalSeconds:0.#} s");
        }
        catch (HttpRequestException e)
        {
            return new TimestampReply(0, [], $"cannot reach {_url}: {e.Message}");
        }
        catch (IOException e)
        {
            return new TimestampReply(0, [], $"connection to {_url} failed: {e.Message}");
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _http.Dispose();
}
