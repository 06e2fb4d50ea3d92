using Microsoft.AspNetCore.Http;
using Sios.Server.Hosting;
using Sios.Server.Http;

namespace Sios.Server.Access;

/// <summary>Turns <c>Authorization: Bearer</c> into a principal, or a 401 that does not say which part was wrong.</summary>
internal static class Authentication
{
    /// <summary>
    /// The caller's principal. A missing, malformed, unknown or revoked key gets the same 401 (a key id's existence is
    /// not revealed) and is counted in metrics, not sealed: unauthenticated traffic must not be able to fill the log.
    /// </summary>
    public static ApiPrincipal Require(HttpContext context, ApiKeyStore keys, SiosMetrics metrics)
    {
        var header = context.Request.Headers.Authorization;
        var token = header.Count == 1 ? ApiKeyStore.BearerToken(header[0]) : null;

        var principal = token is { Length: > 0 } ? keys.Authenticate(token) : null;
        if (principal is not null)
        {
            return principal;
        }

        metrics.AuthFailed(token is null ? "missing" : "rejected");
        context.Response.Headers.WWWAuthenticate = "Bearer";
        throw new ApiException(401,
            token is null ? "No API key: send 'Authorization: Bearer <key>'." : "The API key is not valid (unknown, malformed or revoked).",
            code: "invalid_api_key");
    }
}
