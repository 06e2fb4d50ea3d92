using Microsoft.AspNetCore.Http;

namespace Sios.Server.Http;

/// <summary>The shape a door's clients read errors in; the status and message are the same whatever the shape.</summary>
public enum ErrorShape
{
    /// <summary>OpenAI's <c>{"error":{"message","type","param","code"}}</c>.</summary>
    OpenAi,

    /// <summary>Anthropic's <c>{"type":"error","error":{"type","message"}}</c>.</summary>
    Anthropic,

    /// <summary>Ollama's <c>{"error":"…"}</c>.</summary>
    Ollama,
}

/// <summary>Which shape a request's errors take, from the door its path leads to.</summary>
public static class ErrorShapes
{
    /// <summary>
    /// Ollama's shape under <c>/api/</c>, Anthropic's for <c>/v1/messages</c> and for any <c>/v1</c> request that says
    /// <c>anthropic-version</c> (Anthropic's SDK lists models with it), OpenAI's elsewhere.
    /// </summary>
    public static ErrorShape For(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var path = request.Path;
        if (path.StartsWithSegments("/api", StringComparison.Ordinal))
        {
            return ErrorShape.Ollama;
        }

        return path.StartsWithSegments("/v1/messages", StringComparison.Ordinal) || request.Headers.ContainsKey("anthropic-version")
            ? ErrorShape.Anthropic
            : ErrorShape.OpenAi;
    }
}
