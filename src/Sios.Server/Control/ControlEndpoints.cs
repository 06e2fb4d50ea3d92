using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Sios.Brains.Engines;
using Sios.Brains.Integrity;
using Sios.Brains.Registry;
using Sios.Server.Access;
using Sios.Server.Hosting;
using Sios.Server.Http;
using Sios.Server.Inference;

namespace Sios.Server.Control;

/// <summary>
/// Operator commands while the server holds the log's writer lock (<c>sios key create|revoke</c>, <c>sios brain
/// add|remove</c> from the CLI). Key changes are also open to admin keys over HTTP (<see cref="AdminEndpoints"/>).
/// Answered only on the control Unix socket, whose folder only the operator's account can enter: file permissions
/// are the authentication, and nothing of this is reachable over TCP (a 404 there).
/// </summary>
internal static partial class ControlEndpoints
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
        control.MapKeyChanges(_ => ApiKeyEntries.Actor);
        control.MapPost("/brains", AddBrainAsync);
        control.MapPost("/brains/{name}/remove", RemoveBrainAsync);
        return control;
    }

    /// <summary>
    /// Registers a brain while serving: the weights are hashed here (this can take minutes for a large model),
    /// <c>brain.registered</c> is sealed by this server, and the next request for the name loads it.
    /// </summary>
    private static async Task AddBrainAsync(HttpContext context, SiosServices services, ILoggerFactory loggers)
    {
        var body = await RequestBody.ReadJsonAsync(context, 1 << 20).ConfigureAwait(false);
        var added = await BrainChange(() => services.Brains.AddAsync(BrainRegistry.ManifestFromJson(body), cancellationToken: context.RequestAborted)).ConfigureAwait(false);
        var attestation = await AttestAsync(services, loggers, context.RequestAborted).ConfigureAwait(false);
        await WriteJsonAsync(context, json =>
        {
            json.WritePropertyName("brain");
            json.WriteRawValue(BrainRegistry.ManifestToJson(added), skipInputValidation: true);
            WriteAttestation(json, attestation);
        }).ConfigureAwait(false);
    }

    /// <summary>Removes a brain while serving: no request loads it from then on, and <c>brain.removed</c> is sealed.</summary>
    private static async Task RemoveBrainAsync(HttpContext context, string name, SiosServices services, ILoggerFactory loggers)
    {
        var removed = await BrainChange(() => services.Brains.RemoveAsync(name, context.RequestAborted)).ConfigureAwait(false);
        var attestation = await AttestAsync(services, loggers, context.RequestAborted).ConfigureAwait(false);
        await WriteJsonAsync(context, json =>
        {
            json.WriteString("name", removed.Name);
            WriteAttestation(json, attestation);
        }).ConfigureAwait(false);
    }

    private static async Task<BrainManifest> BrainChange(Func<Task<BrainManifest>> change)
    {
        try
        {
            return await change().ConfigureAwait(false);
        }
        catch (BrainManifestException e)
        {
            throw new ApiException(400, e.Message, code: "invalid_value", inner: e);
        }
        catch (WeightMismatchException e)
        {
            throw new ApiException(400, e.Message, code: "weights_mismatch", inner: e);
        }
        catch (ModelLoadException e)
        {
            throw new ApiException(400, e.Message, code: "invalid_weights", inner: e);
        }
        catch (BrainRegistryException e)
        {
            throw new ApiException(409, e.Message, code: "conflict", inner: e);
        }
    }

    /// <summary>The new attestation's index, or the reason there is none; the change itself stands either way.</summary>
    private static async Task<(long? Index, string? Problem)> AttestAsync(SiosServices services, ILoggerFactory loggers, CancellationToken ct)
    {
        if (services.BrainsChanged is not { } attest)
        {
            return (null, null);
        }

        try
        {
            return (await attest(ct).ConfigureAwait(false), null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            AttestationFailed(loggers.CreateLogger("Sios.Control"), e);
            return (null, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The brains changed, but no attestation could be sealed")]
    private static partial void AttestationFailed(ILogger logger, Exception exception);

    private static void WriteAttestation(Utf8JsonWriter json, (long? Index, string? Problem) attestation)
    {
        if (attestation.Index is { } index)
        {
            json.WriteNumber("attestation", index);
        }

        if (attestation.Problem is { } problem)
        {
            json.WriteString("attestation_problem", problem);
        }
    }

    internal static async Task WriteJsonAsync(HttpContext context, Action<Utf8JsonWriter> body)
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
