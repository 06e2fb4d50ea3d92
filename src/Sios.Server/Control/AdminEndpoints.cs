using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Sios.Server.Access;
using Sios.Server.Hosting;
using Sios.Server.Http;

namespace Sios.Server.Control;

/// <summary>
/// Key administration over HTTP for admin keys (the console's key page): <c>GET /admin/keys</c> lists every key's
/// scope and state (never a secret or its hash), <c>POST /admin/keys</c> makes one and <c>POST /admin/keys/NAME/revoke</c>
/// revokes one, sealed exactly as <c>sios key create|revoke</c> seals them but naming the admin key as the actor. Any
/// other key gets a 403, and nothing is sealed for a refused or malformed request.
/// </summary>
internal static class AdminEndpoints
{
    private const string PrincipalItem = "sios.admin";

    public static RouteGroupBuilder MapAdmin(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin");
        admin.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var principal = Authentication.Require(http, http.RequestServices.GetRequiredService<SiosServices>().Keys, http.RequestServices.GetRequiredService<SiosMetrics>());
            if (principal.Role != ApiKeyRole.Admin)
            {
                throw new ApiException(403, "Managing keys needs an admin key.", "permission_error", code: "not_admin");
            }

            http.Items[PrincipalItem] = principal;
            http.Response.Headers.CacheControl = "no-store";
            return await next(context).ConfigureAwait(false);
        });
        admin.MapGet("/keys", ListAsync);
        admin.MapKeyChanges(context => ((ApiPrincipal)context.Items[PrincipalItem]!).Actor);
        return admin;
    }

    private static Task ListAsync(HttpContext context, SiosServices services) =>
        ControlEndpoints.WriteJsonAsync(context, json =>
        {
            json.WriteStartArray("keys");
            foreach (var key in services.Keys.List().OrderBy(k => k.Created).ThenBy(k => k.Id, StringComparer.Ordinal))
            {
                json.WriteStartObject();
                json.WriteString("id", key.Id);
                json.WriteString("name", key.Name);
                json.WriteString("role", ApiKeyRoleNames.ToName(key.Role));
                json.WriteStartArray("brains");
                foreach (var brain in key.Brains)
                {
                    json.WriteStringValue(brain);
                }

                json.WriteEndArray();
                WriteLimit(json, "rpm", key.Rpm);
                WriteLimit(json, "tpm", key.Tpm);
                json.WriteString("created", key.Created.ToString("O", CultureInfo.InvariantCulture));
                if (key.Revoked is { } revoked)
                {
                    json.WriteString("revoked", revoked.ToString("O", CultureInfo.InvariantCulture));
                }
                else
                {
                    json.WriteNull("revoked");
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
        });

    private static void WriteLimit(System.Text.Json.Utf8JsonWriter json, string name, int? limit)
    {
        if (limit is { } value)
        {
            json.WriteNumber(name, value);
        }
        else
        {
            json.WriteNull(name);
        }
    }
}
