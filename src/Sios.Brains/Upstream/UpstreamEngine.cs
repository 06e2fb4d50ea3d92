using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Text;
using Sios.Brains.Engines;

namespace Sios.Brains.Upstream;

/// <summary>
/// A brain answered by an OpenAI-compatible endpoint the operator hosts (llama-server, vLLM, Ollama): chats are
/// streamed from <c>POST {base}/v1/chat/completions</c> (server-sent events) and embeddings come from
/// <c>POST {base}/v1/embeddings</c>. Every connection goes through the <see cref="EgressAllowList"/>, so an
/// address outside it is refused before anything is sent.
/// </summary>
public sealed class UpstreamEngine : IBrainEngine
{
    private const int MaxEventBytes = 4 << 20;
    private const int MaxErrorBytes = 64 << 10;
    private readonly UpstreamOptions _options;
    private readonly HttpClient _http;
    private readonly Uri _chat;
    private readonly Uri _embeddings;
    private int _disposed;

    /// <summary>An engine for <paramref name="options"/> whose connections are vetted by <paramref name="egress"/>.</summary>
    public UpstreamEngine(UpstreamOptions options, EgressAllowList egress)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(egress);
        options.Validate();
        _options = options;
        var root = options.BaseAddress.AbsoluteUri.TrimEnd('/');
        _chat = new Uri(root + "/v1/chat/completions");
        _embeddings = new Uri(root + "/v1/embeddings");
        var handler = egress.CreateHandler();

        // An abandoned stream must stop the upstream's generation now, not after draining the rest of the answer.
        handler.MaxResponseDrainSize = 0;
        _http = new HttpClient(handler, disposeHandler: true)
        {
            Timeout = System.Threading.Timeout.InfiniteTimeSpan,
            MaxResponseContentBufferSize = 64 << 20,
        };
    }

    /// <summary>The upstream's model id: sent with every request, and what the gateway seals with every answer.</summary>
    public string ModelId => _options.Model;

    /// <summary>The endpoint's root address.</summary>
    public Uri BaseAddress => _options.BaseAddress;

    /// <inheritdoc />
    public string ModelDigest => _options.ModelDigest;

    /// <inheritdoc />
    /// <exception cref="EgressRefusedException">The upstream's address is not in the egress allow-list; nothing was sent.</exception>
    /// <exception cref="UpstreamHttpException">The upstream answered with a non-2xx status (the message includes its own error text).</exception>
    /// <exception cref="UpstreamProtocolException">The answer is not a well-formed OpenAI-compatible event stream.</exception>
    /// <exception cref="UpstreamTimeoutException">The answer did not finish within <see cref="UpstreamOptions.Timeout"/>.</exception>
    public async IAsyncEnumerable<GenerationUpdate> GenerateAsync(ChatRequest request, [EnumeratorCancellation] CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        request.Validate();
        if (request.Prompt is not null)
        {
            throw new NotSupportedException("This brain is an upstream chat endpoint; raw-prompt completions are not forwarded. Use the chat API.");
        }

        var body = OpenAiWire.ChatBody(_options.Model, request);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(_options.Timeout);
        var token = deadline.Token;

        using var response = await GuardAsync(() => SendAsync(_chat, body, "text/event-stream", HttpCompletionOption.ResponseHeadersRead, token), deadline, ct)
            .ConfigureAwait(false);
        if (response.Content.Headers.ContentType?.MediaType is not "text/event-stream")
        {
            throw new UpstreamProtocolException(
                $"The upstream {_chat} answered with '{response.Content.Headers.ContentType?.MediaType ?? "no content type"}' instead of an event stream (text/event-stream).");
        }

        var stream = await GuardAsync(() => response.Content.ReadAsStreamAsync(token), deadline, ct).ConfigureAwait(false);
        var reader = new SseReader(stream, MaxEventBytes);
        FinishReason? finish = null;
        Usage? usage = null;
        var calls = new UpstreamToolCalls(request.Tools);
        while (true)
        {
            var next = await GuardAsync(() => reader.ReadEventAsync(token).AsTask(), deadline, ct).ConfigureAwait(false);
            if (next is not { } ev || ev.Data == "[DONE]")
            {
                break;
            }

            if (ev.Type == "error")
            {
                throw new UpstreamException($"The upstream {_chat} reported an error in the middle of its answer: {OpenAiWire.ErrorMessage(ev.Data, "(no message)")}");
            }

            var chunk = OpenAiWire.ParseChunk(ev.Data);
            finish = chunk.Finish ?? finish;
            usage = chunk.Usage ?? usage;
            calls.Add(chunk.Calls);
            if (!string.IsNullOrEmpty(chunk.Text))
            {
                yield return new GenerationUpdate(chunk.Text);
            }
        }

        if (finish is null)
        {
            throw new UpstreamProtocolException($"The upstream {_chat} ended its event stream without a finish_reason; the answer may be cut short.");
        }

        var made = calls.Complete();
        if (finish == FinishReason.ToolCalls && made.Count == 0)
        {
            throw new UpstreamProtocolException($"The upstream {_chat} ended with finish_reason 'tool_calls' but made no tool call.");
        }

        foreach (var call in made)
        {
            yield return new GenerationUpdate(string.Empty, null, null, call);
        }

        yield return new GenerationUpdate(string.Empty, made.Count > 0 ? FinishReason.ToolCalls : finish, usage);
    }

    /// <inheritdoc />
    /// <exception cref="EgressRefusedException">The upstream's address is not in the egress allow-list; nothing was sent.</exception>
    /// <exception cref="UpstreamHttpException">The upstream answered with a non-2xx status (the message includes its own error text).</exception>
    /// <exception cref="UpstreamProtocolException">The answer is not a well-formed embeddings response for these inputs.</exception>
    public async Task<EmbeddingResult> EmbedAsync(IReadOnlyList<string> inputs, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        for (var i = 0; i < inputs.Count; i++)
        {
            if (string.IsNullOrEmpty(inputs[i]))
            {
                throw new ArgumentException($"Input {i} is empty; there is nothing to embed.", nameof(inputs));
            }
        }

        if (inputs.Count == 0)
        {
            return new EmbeddingResult([], 0);
        }

        var body = OpenAiWire.EmbeddingsBody(_options.Model, inputs);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(_options.Timeout);
        var token = deadline.Token;
        using var response = await GuardAsync(() => SendAsync(_embeddings, body, "application/json", HttpCompletionOption.ResponseContentRead, token), deadline, ct)
            .ConfigureAwait(false);
        var bytes = await GuardAsync(() => response.Content.ReadAsByteArrayAsync(token), deadline, ct).ConfigureAwait(false);
        var (vectors, promptTokens) = OpenAiWire.ParseEmbeddings(bytes, inputs.Count);
        foreach (var v in vectors)
        {
            EmbeddingVector.NormaliseInPlace(v);
        }

        return new EmbeddingResult(vectors, promptTokens);
    }

    /// <summary>Closes the connections to the upstream.</summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _http.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    private async Task<HttpResponseMessage> SendAsync(Uri uri, byte[] body, string accept, HttpCompletionOption completion, CancellationToken ct)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ByteArrayContent(body) };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
        if (_options.ApiKey is { Length: > 0 } key)
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        var response = await _http.SendAsync(message, completion, ct).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            var text = await ReadErrorAsync(response, ct).ConfigureAwait(false);
            throw new UpstreamHttpException(uri, response.StatusCode, OpenAiWire.ErrorMessage(text, response.ReasonPhrase ?? "(no message)"));
        }
    }

    private static async Task<string> ReadErrorAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        var buffer = new byte[MaxErrorBytes];
        var filled = 0;
        int read;
        while (filled < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(filled), ct).ConfigureAwait(false)) > 0)
        {
            filled += read;
        }

        return Encoding.UTF8.GetString(buffer, 0, filled);
    }

    /// <summary>
    /// Runs one step of a request and turns transport failures into the exceptions callers act on: the caller's
    /// cancellation stays an <see cref="OperationCanceledException"/>, the deadline becomes an
    /// <see cref="UpstreamTimeoutException"/>, a refusal by the allow-list is rethrown as itself (HttpClient wraps
    /// whatever the connect callback throws), and other network failures name the endpoint.
    /// </summary>
    private async Task<T> GuardAsync<T>(Func<Task<T>> step, CancellationTokenSource deadline, CancellationToken caller)
    {
        try
        {
            return await step().ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or HttpRequestException or IOException)
        {
            if (caller.IsCancellationRequested)
            {
                throw new OperationCanceledException("The request was cancelled; the upstream request was aborted.", e, caller);
            }

            if (deadline.IsCancellationRequested)
            {
                throw new UpstreamTimeoutException(
                    $"The upstream {_options.BaseAddress} did not finish answering within {_options.Timeout.TotalSeconds:0.#} s; the request was aborted.", e);
            }

            for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
            {
                if (inner is EgressRefusedException refused)
                {
                    ExceptionDispatchInfo.Throw(refused);
                }
            }

            throw new UpstreamException($"The upstream {_options.BaseAddress} could not be reached or dropped the connection: {e.Message}", e);
        }
    }
}
