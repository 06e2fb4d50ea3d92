using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Sios.Brains.Registry;
using Sios.Server.Access;
using Sios.Server.Doors.Anthropic;
using Sios.Server.Hosting;
using Sios.Server.Http;
using Sios.Server.Inference;

namespace Sios.Server.Doors.OpenAi;

/// <summary>
/// The OpenAI-compatible routes under <c>/v1</c>, and Anthropic's Messages beside them; <c>/v1/models</c> answers in
/// Anthropic's shape when the client says <c>anthropic-version</c>, as Anthropic's SDKs do.
/// </summary>
internal static class OpenAiEndpoints
{
    public static RouteGroupBuilder MapOpenAi(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1");
        v1.MapPost("/chat/completions", (HttpContext context, InferenceHandler handler) => handler.GenerateAsync(context, OpenAiCompletionsDoor.Chat));
        v1.MapPost("/completions", (HttpContext context, InferenceHandler handler) => handler.GenerateAsync(context, OpenAiCompletionsDoor.Text));
        v1.MapPost("/embeddings", (HttpContext context, InferenceHandler handler) => handler.EmbedAsync(context, OpenAiEmbeddingsDoor.Instance));
        v1.MapPost("/responses", (HttpContext context, InferenceHandler handler, ResponsesDoor door) => handler.GenerateAsync(context, door));
        v1.MapGet("/responses/{id}", (HttpContext context, string id, ResponsesDoor door, SiosServices services, SiosMetrics metrics) => door.GetAsync(context, id, services, metrics));
        v1.MapDelete("/responses/{id}", (HttpContext context, string id, ResponsesDoor door, SiosServices services, SiosMetrics metrics) => door.DeleteAsync(context, id, services, metrics));
        v1.MapPost("/messages", (HttpContext context, InferenceHandler handler) => handler.GenerateAsync(context, AnthropicDoor.Instance));
        v1.MapGet("/models", ListModelsAsync);
        v1.MapGet("/models/{name}", GetModelAsync);
        return v1;
    }

    /// <summary>The brains this key may use (listing is not sealed: it reveals nothing the key cannot already use).</summary>
    private static Task ListModelsAsync(HttpContext context, SiosServices services, SiosMetrics metrics)
    {
        var principal = Authentication.Require(context, services.Keys, metrics);
        var brains = services.Brains.List().Where(b => principal.MayUse(b.Name)).Select(b => (b.Name, Created(b))).ToList();
        return WriteJsonAsync(context, Anthropic(context) ? AnthropicResponses.Models(brains) : OpenAiResponses.Models(brains));
    }

    private static Task GetModelAsync(HttpContext context, string name, SiosServices services, SiosMetrics metrics)
    {
        var principal = Authentication.Require(context, services.Keys, metrics);
        if (services.Brains.Find(name) is not { } brain || !principal.MayUse(brain.Name))
        {
            throw ApiException.ModelNotFound(name);
        }

        var list = Anthropic(context) ? AnthropicResponses.Models([(brain.Name, Created(brain))]) : OpenAiResponses.Models([(brain.Name, Created(brain))]);
        using var doc = System.Text.Json.JsonDocument.Parse(list);
        return WriteJsonAsync(context, System.Text.Encoding.UTF8.GetBytes(doc.RootElement.GetProperty("data")[0].GetRawText()));
    }

    private static bool Anthropic(HttpContext context) => context.Request.Headers.ContainsKey("anthropic-version");

    /// <summary>OpenAI's <c>created</c>: when the brain's weights file was written (0 when it has none here).</summary>
    private static long Created(BrainManifest brain) =>
        brain.ModelPath is { Length: > 0 } path && File.Exists(path) ? new DateTimeOffset(File.GetLastWriteTimeUtc(path)).ToUnixTimeSeconds() : 0;

    private static Task WriteJsonAsync(HttpContext context, byte[] body) => DoorJson.WriteAsync(context, body);
}
