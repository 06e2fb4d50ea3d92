using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Sios.Server.Access;
using Sios.Server.Hosting;
using Sios.Server.Http;
using Sios.Server.Inference;

namespace Sios.Server.Control;

/// <summary>
/// Operator commands while the server holds the log's writer lock (<c>sios key create|revoke</c> from the CLI).
/// Answered only on the control Unix socket, whose folder only the operator's account can enter: file permissions
/// are the authentication, and nothing of this is reachable over TCP (a 404 there).
/// </summary>
internal static class ControlEndpoints
{
    public static RouteGroupBuilder MapControl(this IEndpointRouteBuilder app)
    {
        var control = app.MapGroup("/control");
        control.AddEndpointFilter(async (context, next) =>
        {
            // Kestrel gives a Unix-socket connection no IP addresses; every TCP connection has both.
            var connection = context.HttpContext.Connection;
            return connection.LocalIpAddress is null && connection.RemoteIpAddress is null
                ? await next(context).ConfigureAwait(false)
                : throw new ApiException(404, $"There is no '{context.HttpContext.Request.Path}' here.", code: "not_found");
        });
        control.MapPost("/keys", CreateKeyAsync);
        control.MapPost("/keys/{name}/revoke", RevokeKeyAsync);
        return control;
    }

    private static async Task CreateKeyAsync(HttpContext context, SiosServices services)
    {
        var body = await RequestBody.ReadJsonAsync(context, 64 << 10).ConfigureAwait(false);
        string name;
        ApiKeyRole role;
        List<string> brains;
        int? rpm;
        int? tpm;
        using (var doc = JsonFields.ParseObject(body))
        {
            var root = doc.RootElement;
            name = JsonFields.RequiredString(root, "name");
            var roleName = JsonFields.OptionalString(root, "role") ?? "user";
            if (!Enum.TryParse(roleName, ignoreCase: true, out role) || !Enum.IsDefined(role) || roleName.Any(char.IsDigit))
            {
                throw JsonFields.Invalid("role", $"'role' must be user, auditor or admin (got '{roleName}').");
            }

            brains = [.. JsonFields.OptionalStrings(root, "brains", 4096) ?? throw JsonFields.Invalid("brains", "'brains' is required: brain names, or [\"*\"] for all.")];
            rpm = (int?)JsonFields.OptionalInteger(root, "rpm", 1, int.MaxValue);
            tpm = (int?)JsonFields.OptionalInteger(root, "tpm", 1, int.MaxValue);
        }

        var unknown = brains.Where(b => b != "*" && services.Brains.Find(b) is null).ToList();
        if (unknown.Count > 0)
        {
            throw JsonFields.Invalid("brains", $"No brain is registered as {string.Join(", ", unknown.Select(u => $"'{u}'"))}.");
        }

        // Sealed before it is stored: a key that works but was never sealed must be impossible.
        string keySecret = "";
        var prepared = Guard(() => services.Keys.Prepare(name, role, brains, out keySecret, rpm, tpm));
        await services.Log.AppendAsync(ApiKeyEntries.Created(prepared, services.Clock), context.RequestAborted).ConfigureAwait(false);
        Guard(() =>
        {
            services.Keys.Add(prepared);
            return 0;
        });
        await WriteJsonAsync(context, json =>
        {
            json.WriteString("id", prepared.Id);
            json.WriteString("name", prepared.Name);
            json.WriteString("secret", keySecret);
        }).ConfigureAwait(false);
    }

    private static async Task RevokeKeyAsync(HttpContext context, string name, SiosServices services)
    {
        var live = services.Keys.List().FirstOrDefault(k => k.Name == name && !k.IsRevoked)
            ?? throw new ApiException(404, $"No live API key is named '{name}'.", code: "not_found");
        await services.Log.AppendAsync(ApiKeyEntries.Revoked(live with { Revoked = services.Clock.GetUtcNow() }, services.Clock), context.RequestAborted).ConfigureAwait(false);
        var revoked = Guard(() => services.Keys.Revoke(name, live.Id));
        await WriteJsonAsync(context, json =>
        {
            json.WriteString("id", revoked.Id);
            json.WriteString("name", revoked.Name);
        }).ConfigureAwait(false);
    }

    private static T Guard<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (ApiKeyException e)
        {
            var (status, code) = e.Error switch
            {
                ApiKeyError.Conflict => (409, "conflict"),
                ApiKeyError.NotFound => (404, "not_found"),
                _ => (400, "invalid_value"),
            };
            throw new ApiException(status, e.Message, code: code, inner: e);
        }
    }

    private static async Task WriteJsonAsync(HttpContext context, Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            body(json);
            json.WriteEndObject();
        }

        context.Response.ContentType = "application/json";
        context.Response.ContentLength = buffer.Length;
        await context.Response.Body.WriteAsync(buffer.ToArray(), context.RequestAborted).ConfigureAwait(false);
    }
}
