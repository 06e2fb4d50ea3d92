using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Sios.Brains.Engines;
using Sios.Brains.Pool;
using Sios.Brains.Registry;
using Sios.Brains.Upstream;
using Sios.Ledger.Pipeline;

namespace Sios.Server.Http;

/// <summary>
/// A failure to report to the client as OpenAI's error object (<c>{"error":{"message","type","param","code"}}</c>)
/// with its HTTP status. <see cref="From"/> is the one place where exceptions become statuses.
/// </summary>
public sealed class ApiException : Exception
{
    /// <summary>An error with the given status and OpenAI error fields.</summary>
    public ApiException(int status, string message, string type = InvalidRequest, string? param = null, string? code = null, TimeSpan? retryAfter = null, Exception? inner = null)
        : base(message, inner)
    {
        Status = status;
        Type = type;
        Param = param;
        Code = code;
        RetryAfter = retryAfter;
    }

    /// <summary>A 500 with a generic message.</summary>
    public ApiException() : this(StatusCodes.Status500InternalServerError, "internal error", ServerError)
    {
    }

    /// <summary>A 400 with <paramref name="message"/>.</summary>
    public ApiException(string message) : this(StatusCodes.Status400BadRequest, message)
    {
    }

    /// <summary>A 400 with <paramref name="message"/> caused by <paramref name="innerException"/>.</summary>
    public ApiException(string message, Exception innerException) : this(StatusCodes.Status400BadRequest, message, inner: innerException)
    {
    }

    /// <summary>OpenAI's type for errors the client caused.</summary>
    public const string InvalidRequest = "invalid_request_error";

    /// <summary>OpenAI's type for errors on the server's side.</summary>
    public const string ServerError = "server_error";

    /// <summary>The HTTP status.</summary>
    public int Status { get; }

    /// <summary>OpenAI's <c>error.type</c>.</summary>
    public string Type { get; }

    /// <summary>The request field at fault, if any.</summary>
    public string? Param { get; }

    /// <summary>A machine-readable code, if any.</summary>
    public string? Code { get; }

    /// <summary>When to try again (sent as <c>Retry-After</c>), for 429 and 503.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>Whether the client caused it (4xx).</summary>
    public bool IsClientError => Status is >= 400 and < 500;

    /// <summary>The error object's JSON bytes in a door's <paramref name="shape"/>: exactly what is sent as the body.</summary>
    public byte[] ToJson(ErrorShape shape = ErrorShape.OpenAi)
    {
        using var buffer = new MemoryStream(256);
        using (var json = new Utf8JsonWriter(buffer, Inference.InferenceSealer.JsonOptions))
        {
            switch (shape)
            {
                case ErrorShape.Anthropic:
                    // Anthropic's shape: {"type":"error","error":{"type":…,"message":…}}, its type told by the status.
                    json.WriteStartObject();
                    json.WriteString("type", "error");
                    json.WriteStartObject("error");
                    json.WriteString("type", AnthropicType(Status));
                    json.WriteString("message", Message);
                    json.WriteEndObject();
                    json.WriteEndObject();
                    break;
                case ErrorShape.Ollama:
                    json.WriteStartObject();
                    json.WriteString("error", Message);
                    json.WriteEndObject();
                    break;
                default:
                    json.WriteStartObject();
                    json.WriteStartObject("error");
                    json.WriteString("message", Message);
                    json.WriteString("type", Type);
                    WriteNullable(json, "param", Param);
                    WriteNullable(json, "code", Code);
                    json.WriteEndObject();
                    json.WriteEndObject();
                    break;
            }
        }

        return buffer.ToArray();
    }

    /// <summary>Sends this error as the whole response (status, Retry-After, JSON body in <paramref name="shape"/>).</summary>
    public Task WriteAsync(HttpContext context, ErrorShape shape = ErrorShape.OpenAi, IReadOnlyDictionary<string, string>? headers = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        return WriteAsync(context, ToJson(shape), headers);
    }

    /// <summary>Sends <paramref name="body"/> (this error's JSON, already made) as the whole response.</summary>
    public async Task WriteAsync(HttpContext context, byte[] body, IReadOnlyDictionary<string, string>? headers = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(body);
        var response = context.Response;
        response.StatusCode = Status;
        response.ContentType = "application/json";
        response.ContentLength = body.Length;
        if (RetryAfter is { } wait)
        {
            response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        if (headers is not null)
        {
            foreach (var (name, value) in headers)
            {
                response.Headers[name] = value;
            }
        }

        await response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>
    /// The error to report for <paramref name="exception"/>. Client mistakes map to 4xx; a seal that cannot be made
    /// and a server that is stopping map to 503 with Retry-After (no seal, no answer); a brain that cannot load for
    /// good maps to 424 (see <see cref="BrainFailure"/>); anything unforeseen to a 500 that says no more.
    /// </summary>
    public static ApiException From(Exception exception) => exception switch
    {
        ApiException api => api,
        BadHttpRequestException bad when bad.StatusCode == StatusCodes.Status413PayloadTooLarge =>
            new ApiException(413, "The request body is larger than this server accepts.", code: "request_too_large", inner: bad),
        // Kestrel's own status (400 malformed, 408 a body sent too slowly, 411 no length): the client's doing.
        BadHttpRequestException bad => new ApiException(bad.StatusCode is >= 400 and < 500 ? bad.StatusCode : 400, $"The request could not be read: {bad.Message}", inner: bad),
        LogBackpressureException busy => new ApiException(503,
            "The audit record is busy sealing other answers; no answer is given unsealed. Try again shortly.",
            ServerError, code: "seal_busy", retryAfter: busy.RetryAfter, inner: busy),
        LogFailedException or LogIntegrityException => new ApiException(503,
            "The audit record cannot seal right now, so no answer is given (no seal, no answer).",
            ServerError, code: "seal_unavailable", retryAfter: TimeSpan.FromSeconds(30), inner: exception),
        // The log, the pool and the engines are disposed only once the server stops.
        ObjectDisposedException => Stopping(exception),
        BrainRegistryException => ModelNotFound(null, exception),
        BrainLoadException load => BrainFailure(load),
        MissingChatTemplateException template => new ApiException(400, template.Message, param: "messages", code: "chat_unsupported", inner: template),
        ChatTemplateRefusedException refused => new ApiException(400, refused.Message, param: "messages", code: "template_refused", inner: refused),
        ContextWindowExceededException window => new ApiException(400, window.Message, param: "messages", code: "context_length_exceeded", inner: window),
        Verify.FormatViolationException damaged => new ApiException(503,
            "The server cannot read its own key or brain files; the operator must repair them.", ServerError, code: "config_damaged", inner: damaged),
        Ledger.State.StateFileException refused => new ApiException(503,
            "The server's key or brain file failed its authentication, so it trusts none of it; the operator must repair it.", ServerError, code: "state_refused", inner: refused),
        Ledger.State.StateUnavailableException unreachable => new ApiException(503,
            "The server cannot reach the store that holds its keys and brains, so it trusts none of them until it can. Try again shortly.",
            ServerError, code: "store_unavailable", retryAfter: TimeSpan.FromSeconds(5), inner: unreachable),
        NotSupportedException unsupported => new ApiException(400, unsupported.Message, code: "unsupported", inner: unsupported),
        ArgumentException argument => new ApiException(400, argument.Message, param: ParamName(argument), inner: argument),
        EgressRefusedException egress => new ApiException(502, $"The brain's upstream is not reachable from here: {egress.Message}", ServerError, code: "egress_refused", inner: egress),
        UpstreamTimeoutException timeout => new ApiException(504, timeout.Message, ServerError, code: "upstream_timeout", inner: timeout),
        UpstreamException upstream => new ApiException(502, upstream.Message, ServerError, code: "upstream_error", inner: upstream),
        _ => new ApiException(500, "The server failed to answer this request; the failure is in its log.", ServerError, inner: exception),
    };

    /// <summary>
    /// The error that ends a request of <paramref name="context"/> with <paramref name="exception"/>, telling apart
    /// the ways a request is cancelled: null when the client has gone (there is no one to answer); 503 with
    /// Retry-After when the server is stopping; 408 when the request ran out of <paramref name="timeout"/>. Any other
    /// failure is <see cref="From"/>'s.
    /// </summary>
    public static ApiException? ForRequest(HttpContext context, Exception exception, TimeSpan? timeout)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.RequestAborted.IsCancellationRequested)
        {
            return null;
        }

        if (exception is not OperationCanceledException)
        {
            return From(exception);
        }

        var stopping = context.RequestServices?.GetService(typeof(IHostApplicationLifetime)) is IHostApplicationLifetime { ApplicationStopping.IsCancellationRequested: true };
        return stopping
            ? Stopping(exception)
            : new ApiException(408, timeout is { } limit
                ? string.Create(CultureInfo.InvariantCulture, $"The request took longer than this server allows ({limit.TotalSeconds:N0} s).")
                : "The request took longer than this server allows.", code: "timeout", inner: exception);
    }

    /// <summary>
    /// The one answer for a model the key may not use, whether it is missing or outside the key's scope (OpenAI's
    /// wording): telling the two apart would let a key discover the names of brains it was never given.
    /// </summary>
    public static ApiException ModelNotFound(string? model, Exception? inner = null) =>
        new(404, model is null ? "The model does not exist or you do not have access to it." : $"The model `{model}` does not exist or you do not have access to it.",
            param: "model", code: "model_not_found", inner: inner);

    /// <summary>
    /// The same 404 in the words of a door's clients: Ollama's names the model as Ollama does, but says why there is
    /// nothing to pull (brains are registered by the operator, not fetched on request).
    /// </summary>
    public static ApiException ModelNotFound(string model, ErrorShape shape) => shape == ErrorShape.Ollama
        ? new(404, $"model \"{model}\" not found: brains are registered by this server's operator, there is nothing to pull; GET /api/tags lists the ones your key may use",
            param: "model", code: "model_not_found")
        : ModelNotFound(model);

    /// <summary>
    /// The error for a request Kestrel refused on its own, before any middleware ran, of which only the status is
    /// known (see <see cref="KestrelRejections"/>).
    /// </summary>
    public static ApiException ForRejection(int status) => status switch
    {
        400 => new ApiException(400, "The request is not valid HTTP/1.1: its request line, headers or body framing are malformed.", code: "bad_request"),
        408 => new ApiException(408, "The request's headers did not arrive in time.", code: "timeout"),
        411 => new ApiException(411, "A request with a body needs a Content-Length or Transfer-Encoding: chunked.", code: "length_required"),
        413 => new ApiException(413, "The request body is larger than this server accepts.", code: "request_too_large"),
        414 => new ApiException(414, "The request line (method and URL) is longer than this server accepts.", code: "uri_too_long"),
        431 => new ApiException(431, "The request headers are larger than this server accepts.", code: "headers_too_large"),
        505 => new ApiException(505, "This server speaks HTTP/1.0 and HTTP/1.1 only.", code: "http_version_not_supported"),
        < 500 => new ApiException(status, "The request was refused before it was read.", code: "bad_request"),
        _ => new ApiException(status, "The server could not take this request.", ServerError),
    };

    /// <summary>
    /// A brain that could not be loaded. For good (bad or refused weights, a refused upstream, too large for the
    /// budget): 424 Failed Dependency without Retry-After, because OpenAI's SDKs retry 408, 409, 429 and every 5xx,
    /// and retrying cannot help until the operator acts (Hugging Face's inference endpoints answer a model that fails
    /// to load the same way). For now (the server stopping, a seal not made, a name not resolved): 503 with
    /// Retry-After. The message names the brain, never a file or host of the server: those go to the server's log.
    /// </summary>
    private static ApiException BrainFailure(BrainLoadException load)
    {
        if (load.Stopping)
        {
            return Stopping(load);
        }

        if (load.InnerException is LogBackpressureException or LogFailedException or LogIntegrityException)
        {
            return From(load.InnerException);
        }

        if (!load.Permanent)
        {
            return new ApiException(503, $"The brain '{load.Brain}' could not be loaded just now; try again shortly.", ServerError, "model", "brain_unavailable", TimeSpan.FromSeconds(5), load);
        }

        var (message, code) = load.Refused
            ? ($"The brain '{load.Brain}' is refused: its weights no longer match the digests pinned when it was registered (sealed as brain.refused); the operator must restore them or register the brain again.", "brain_refused")
            : load.EgressRefused
                ? ($"The brain '{load.Brain}' cannot be used: its upstream is not in this server's egress allow-list.", "egress_refused")
                : ($"The brain '{load.Brain}' cannot be loaded on this server, and trying again will not help until the operator fixes it (the reason is in the server's log).", "brain_load_failed");
        return new ApiException(StatusCodes.Status424FailedDependency, message, ServerError, "model", code, inner: load);
    }

    private static ApiException Stopping(Exception inner) =>
        new(503, "The server is stopping; try again shortly.", ServerError, code: "server_stopping", retryAfter: TimeSpan.FromSeconds(5), inner: inner);

    private static string? ParamName(ArgumentException argument) => argument.ParamName switch
    {
        null => null,
        "MaxTokens" => "max_tokens",
        "TopP" => "top_p",
        "Temperature" => "temperature",
        "Stop" => "stop",
        "Messages" => "messages",
        "Prompt" => "prompt",
        "inputs" => "input",
        var other => other,
    };

    /// <summary>Anthropic's <c>error.type</c> for a status (its documented list; 503 is its <c>overloaded_error</c>).</summary>
    private static string AnthropicType(int status) => status switch
    {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 or 529 => "overloaded_error",
        504 => "timeout_error",
        < 500 => "invalid_request_error",
        _ => "api_error",
    };

    private static void WriteNullable(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }
}
