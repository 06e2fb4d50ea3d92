using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Sios.Verify;

namespace Sios.Ledger.Publication;

/// <summary>A witness's answer to <c>add-checkpoint</c>: its status and body, or (status 0) why none came.</summary>
/// <param name="Status">The HTTP status; 0 when the witness could not be reached or did not answer in time.</param>
/// <param name="ContentType">The response's media type, or null.</param>
/// <param name="Body">The response body (capped at <see cref="HttpWitnessClient.MaxResponseBytes"/>).</param>
/// <param name="Error">For status 0, what went wrong.</param>
public sealed record WitnessReply(int Status, string? ContentType, byte[] Body, string? Error = null)
{
    /// <summary>The media type of a 409's body (c2sp.org/tlog-witness).</summary>
    public const string TlogSize = "text/x.tlog.size";

    /// <summary>The tree size a 409 says the witness holds, or null when the body is not a <c>text/x.tlog.size</c> number.</summary>
    public long? HeldSize
    {
        get
        {
            if (Status != 409 || !string.Equals(ContentType, TlogSize, StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }

            var text = Encoding.ASCII.GetString(Body);
            return text.EndsWith('\n') && long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var size) ? size : null;
        }
    }

    /// <summary>The witness's words in one short line (its body's first line), or the transport error.</summary>
    public string Reason
    {
        get
        {
            if (Error is not null)
            {
                return Error;
            }

            var text = Encoding.UTF8.GetString(Body.AsSpan(0, Math.Min(Body.Length, 400)));
            var line = text.Split('\n')[0].Trim();
            return new string([.. line.Where(c => !char.IsControl(c)).Take(200)]);
        }
    }
}

/// <summary>Submits checkpoints to a witness (c2sp.org/tlog-witness <c>add-checkpoint</c>). The publication stage's one way out.</summary>
public interface IWitnessClient
{
    /// <summary>Posts <c>old N</c>, the proof and the note to <c>&lt;prefix&gt;/add-checkpoint</c>; never throws for a witness's failure.</summary>
    Task<WitnessReply> AddCheckpointAsync(Uri prefix, long oldSize, IReadOnlyList<byte[]> proof, byte[] note, CancellationToken cancellationToken);
}

/// <summary>
/// The HTTP witness client. Connections go through the handler it is given (the node passes the egress allow-list's),
/// every request has its own deadline, and an answer is read only up to a cap: a witness cannot stall or flood the log.
/// </summary>
public sealed class HttpWitnessClient : IWitnessClient, IDisposable
{
    /// <summary>Largest witness response read: cosignature lines are a few kilobytes.</summary>
    public const int MaxResponseBytes = 64 * 1024;

    private readonly HttpClient _http;
    private readonly TimeSpan _timeout;

    /// <summary>Creates a client over <paramref name="handler"/> (owned from here on) with a per-request <paramref name="timeout"/>.</summary>
    public HttpWitnessClient(HttpMessageHandler handler, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _timeout = timeout;
    }

    /// <summary>The request body of c2sp.org/tlog-witness: <c>old N</c>, one base64 proof hash per line, an empty line, the note.</summary>
    public static byte[] Body(long oldSize, IReadOnlyList<byte[]> proof, byte[] note)
    {
        ArgumentNullException.ThrowIfNull(proof);
        ArgumentNullException.ThrowIfNull(note);
        var head = new StringBuilder("old ").Append(oldSize.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var hash in proof)
        {
            head.Append(Convert.ToBase64String(hash)).Append('\n');
        }

        var bytes = Encoding.ASCII.GetBytes(head.Append('\n').ToString());
        return [.. bytes, .. note];
    }

    /// <inheritdoc/>
    public async Task<WitnessReply> AddCheckpointAsync(Uri prefix, long oldSize, IReadOnlyList<byte[]> proof, byte[] note, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_timeout);
        var url = new Uri(prefix.AbsoluteUri.TrimEnd('/') + "/add-checkpoint");
        try
        {
            using var content = new ByteArrayContent(Body(oldSize, proof, note));
            content.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
            using var response = await _http.PostAsync(url, content, deadline.Token).ConfigureAwait(false);
            var body = await HttpBodies.ReadCappedAsync(response.Content, MaxResponseBytes, deadline.Token).ConfigureAwait(false);
            return new WitnessReply((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, body);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new WitnessReply(0, null, [], $"no answer from {url} within {_timeout.TotalSeconds:0.#} s");
        }
        catch (HttpRequestException e)
        {
            return new WitnessReply(0, null, [], $"cannot reach {url}: {e.Message}");
        }
        catch (IOException e)
        {
            return new WitnessReply(0, null, [], $"connection to {url} failed: {e.Message}");
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _http.Dispose();
}
