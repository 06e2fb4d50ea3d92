using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
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

    /// <summary>The error object's JSON bytes: exactly what is sent as the body.</summary>
    public byte[] ToJson()
    {
        using var buffer = new MemoryStream(256);
        using (var json = new Utf8JsonWriter(buffer, Inference.InferenceSealer.JsonOptions))
        {
            WriteObject(json);
        }

        return buffer.ToArray();
    }

    /// <summary>Writes <c>{"error":{...}}</c>.</summary>
    public void WriteObject(Utf8JsonWriter json)
    {
        ArgumentNullException.ThrowIfNull(json);
        json.WriteStartObject();
        json.WriteStartObject("error");
        json.WriteString("message", Message);
        json.WriteString("type", Type);
        WriteNullable(json, "param", Param);
        WriteNullable(json, "code", Code);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>Sends this error as the whole response (status, Retry-After, JSON body).</summary>
    public Task WriteAsync(HttpContext context, IReadOnlyDictionary<string, string>? headers = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        var body = ToJson();
        return WriteAsync(context, body, headers);
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
    /// and a brain that cannot load map to 503 (no seal, no answer); anything unforeseen to a 500 that says no more.
    /// </summary>
    public static ApiException From(Exception exception) => exception switch
    {
        ApiException api => api,
        BadHttpRequestException bad when bad.StatusCode == StatusCodes.Status413PayloadTooLarge =>
            new ApiException(413, "The request body is larger than this server accepts.", code: "request_too_large", inner: bad),
        BadHttpRequestException bad => new ApiException(400, $"The request could not be read: {bad.Message}", inner: bad),
        LogBackpressureException busy => new ApiException(503,
            "The audit record is busy sealing other answers; no answer is given unsealed. Try again shortly.",
            ServerError, code: "seal_busy", retryAfter: busy.RetryAfter, inner: busy),
        LogFailedException or LogIntegrityException or ObjectDisposedException => new ApiException(503,
            "The audit record cannot seal right now, so no answer is given (no seal, no answer).",
            ServerError, code: "seal_unavailable", retryAfter: TimeSpan.FromSeconds(30), inner: exception),
        BrainRegistryException missing => new ApiException(404, missing.Message, param: "model", code: "model_not_found", inner: missing),
        BrainLoadException load => new ApiException(503, load.Message, ServerError, param: "model",
            code: load.Refused ? "brain_refused" : load.EgressRefused ? "egress_refused" : "brain_unavailable",
            retryAfter: load.Refused || load.EgressRefused ? null : TimeSpan.FromSeconds(5), inner: load),
        MissingChatTemplateException template => new ApiException(400, template.Message, param: "messages", code: "chat_unsupported", inner: template),
        ContextWindowExceededException window => new ApiException(400, window.Message, param: "messages", code: "context_length_exceeded", inner: window),
        Verify.FormatViolationException damaged => new ApiException(503,
            "The server cannot read its own key or brain files; the operator must repair them.", ServerError, code: "config_damaged", inner: damaged),
        Ledger.State.StateFileException refused => new ApiException(503,
            "The server's key or brain file failed its authentication, so it trusts none of it; the operator must repair it.", ServerError, code: "state_refused", inner: refused),
        NotSupportedException unsupported => new ApiException(400, unsupported.Message, code: "unsupported", inner: unsupported),
        ArgumentException argument => new ApiException(400, argument.Message, param: ParamName(argument), inner: argument),
        EgressRefusedException egress => new ApiException(502, $"The brain's upstream is not reachable from here: {egress.Message}", ServerError, code: "egress_refused", inner: egress),
        UpstreamTimeoutException timeout => new ApiException(504, timeout.Message, ServerError, code: "upstream_timeout", inner: timeout),
        UpstreamException upstream => new ApiException(502, upstream.Message, ServerError, code: "upstream_error", inner: upstream),
        _ => new ApiException(500, "The server failed to answer this request; the failure is in its log.", ServerError, inner: exception),
    };

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
