using Microsoft.AspNetCore.Http;
using Sios.Server.Hosting;
using Sios.Server.Http;

namespace Sios.Server.Access;

/// <summary>
/// Turns the caller's key (<c>Authorization: Bearer</c>, or Anthropic's <c>x-api-key</c>) into a principal, or a 401
/// that does not say which part was wrong.
/// </summary>
internal static class Authentication
{
    /// <summary>
    /// The caller's principal. A missing, malformed, unknown or revoked key gets the same 401 (a key id's existence is
    /// not revealed) and is counted in metrics, not sealed: unauthenticated traffic must not be able to fill the log.
    /// A request with no key is told how its door's clients send one.
    /// </summary>
    public static ApiPrincipal Require(HttpContext context, ApiKeyStore keys, SiosMetrics metrics)
    {
        var headers = context.Request.Headers;
        var authorization = headers.Authorization;
        var apiKey = headers["x-api-key"];
        string? token = null;
        if (authorization.Count == 1)
        {
            token = ApiKeyStore.BearerToken(authorization[0]);
        }
        else if (authorization.Count == 0 && apiKey.Count == 1)
        {
            token = apiKey[0] is { Length: > 0 } key ? key.Trim(' ') : null;
        }

        var principal = token is { Length: > 0 } ? keys.Authenticate(token) : null;
        if (principal is not null)
        {
            return principal;
        }

        metrics.AuthFailed(token is null ? "missing" : "rejected");
        context.Response.Headers.WWWAuthenticate = "Bearer";
        throw new ApiException(401, token is null ? Missing(ErrorShapes.For(context.Request)) : "The API key is not valid (unknown, malformed or revoked).", code: "invalid_api_key");
    }

    private static string Missing(ErrorShape door) => door switch
    {
        ErrorShape.Ollama => "No API key: this Ollama API needs one. Ollama clients send it as a header: ollama-js "
            + "new Ollama({ host, headers: { Authorization: 'Bearer <key>' } }), Python Client(host=..., headers={'Authorization': 'Bearer <key>'}); "
            + "OLLAMA_HOST alone sends none.",
        ErrorShape.Anthropic => "No API key: send 'x-api-key: <key>' (or 'Authorization: Bearer <key>').",
        _ => "No API key: send 'Authorization: Bearer <key>'.",
    };
}
