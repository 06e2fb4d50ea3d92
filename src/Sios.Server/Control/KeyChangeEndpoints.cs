using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Sios.Server.Access;
using Sios.Server.Hosting;
using Sios.Server.Http;

namespace Sios.Server.Control;

/// <summary>
/// Making and revoking API keys, the one handler behind both doors that may: the control socket (the operator, by file
/// permissions) and <c>/admin/keys</c> (an admin key). Both go through <see cref="OperatorActions"/>, so either way
/// the change is sealed before it is stored; only the actor the entry names differs.
/// </summary>
internal static class KeyChangeEndpoints
{
    /// <summary>Maps <c>POST keys</c> and <c>POST keys/{name}/revoke</c> under <paramref name="group"/>, sealing as <paramref name="actorOf"/>.</summary>
    public static void MapKeyChanges(this RouteGroupBuilder group, Func<HttpContext, string> actorOf)
    {
        group.MapPost("/keys", (HttpContext context, SiosServices services) => CreateAsync(context, services, actorOf(context)));
        group.MapPost("/keys/{name}/revoke", (HttpContext context, string name, SiosServices services) => RevokeAsync(context, name, services, actorOf(context)));
    }

    private static async Task CreateAsync(HttpContext context, SiosServices services, string actor)
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

        var created = await Guard(() => new OperatorActions(services.Log, services.Keys, services.Clock).CreateKeyAsync(name, role, brains, rpm, tpm, context.RequestAborted, actor)).ConfigureAwait(false);
        await ControlEndpoints.WriteJsonAsync(context, json =>
        {
            json.WriteString("id", created.Key.Id);
            json.WriteString("name", created.Key.Name);
            json.WriteString("secret", created.Secret);
            json.WriteNumber("index", created.Index);
        }).ConfigureAwait(false);
    }

    private static async Task RevokeAsync(HttpContext context, string name, SiosServices services, string actor)
    {
        var (revoked, index) = await Guard(() => new OperatorActions(services.Log, services.Keys, services.Clock).RevokeKeyAsync(name, context.RequestAborted, actor)).ConfigureAwait(false);
        await ControlEndpoints.WriteJsonAsync(context, json =>
        {
            json.WriteString("id", revoked.Id);
            json.WriteString("name", revoked.Name);
            json.WriteNumber("index", index);
        }).ConfigureAwait(false);
    }

    private static async Task<T> Guard<T>(Func<Task<T>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
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
}
