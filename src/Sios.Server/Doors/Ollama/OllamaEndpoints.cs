using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Sios.Brains.Registry;
using Sios.Server.Access;
using Sios.Server.Hosting;
using Sios.Server.Http;
using Sios.Server.Inference;

namespace Sios.Server.Doors.Ollama;

/// <summary>
/// Ollama's routes under <c>/api</c>: chat, generate and embed through the one sealed pipeline, and the listings
/// (<c>tags</c>, <c>ps</c>, <c>show</c>, <c>version</c>), which are not sealed: like <c>/v1/models</c>, they reveal
/// nothing the key cannot already use. Brains are listed as <c>NAME:latest</c>, Ollama's name for an untagged model.
/// </summary>
internal static class OllamaEndpoints
{
    /// <summary>
    /// What <c>/api/version</c> answers: the Ollama release whose API this door speaks (calls with ids, structured
    /// outputs), not SIOS's own version, since Ollama's clients read it to know what the server understands.
    /// </summary>
    public const string ApiVersion = "0.12.10";

    /// <summary>Go's zero time, which is what Ollama writes for a time it does not have.</summary>
    private static readonly DateTimeOffset NoTime = DateTimeOffset.MinValue;

    public static RouteGroupBuilder MapOllama(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api");
        api.MapPost("/chat", (HttpContext context, InferenceHandler handler) => handler.GenerateAsync(context, OllamaGenerationDoor.Chat));
        api.MapPost("/generate", (HttpContext context, InferenceHandler handler) => handler.GenerateAsync(context, OllamaGenerationDoor.Generate));
        api.MapPost("/embed", (HttpContext context, InferenceHandler handler) => handler.EmbedAsync(context, OllamaEmbedDoor.Instance));
        api.MapGet("/tags", ListAsync);
        api.MapGet("/ps", RunningAsync);
        api.MapPost("/show", ShowAsync);
        api.MapGet("/version", VersionAsync);
        return api;
    }

    /// <summary>The brains this key may use.</summary>
    private static Task ListAsync(HttpContext context, SiosServices services, SiosMetrics metrics)
    {
        var principal = Authentication.Require(context, services.Keys, metrics);
        return DoorJson.WriteAsync(context, Models(services.Brains.List().Where(b => principal.MayUse(b.Name)), running: false));
    }

    /// <summary>The brains of this key loaded in the pool now.</summary>
    private static Task RunningAsync(HttpContext context, SiosServices services, SiosMetrics metrics)
    {
        var principal = Authentication.Require(context, services.Keys, metrics);
        var loaded = services.Pool.Snapshot().Loaded.Select(services.Brains.Find).OfType<BrainManifest>().Where(b => principal.MayUse(b.Name));
        return DoorJson.WriteAsync(context, Models(loaded, running: true));
    }

    private static async Task ShowAsync(HttpContext context, SiosServices services, SiosServerOptions options, SiosMetrics metrics)
    {
        var principal = Authentication.Require(context, services.Keys, metrics);
        string asked;
        using (var doc = JsonFields.ParseObject(await RequestBody.ReadJsonAsync(context, options.MaxRequestBodyBytes).ConfigureAwait(false)))
        {
            // 'name' is Ollama's older word for 'model'.
            asked = JsonFields.OptionalString(doc.RootElement, "model") is { Length: > 0 } model ? model : JsonFields.RequiredString(doc.RootElement, "name");
        }

        if (services.Brains.Find(OllamaRequests.BrainName(asked)) is not { } brain || !principal.MayUse(brain.Name))
        {
            throw ApiException.ModelNotFound(asked, ErrorShape.Ollama);
        }

        // Only what is known without loading the brain: whether it calls tools depends on its chat template, so
        // 'tools' is not claimed; nor are the template, the parameters and the operator's system prompt shown.
        await DoorJson.WriteAsync(context, DoorJson.Object(json =>
        {
            WriteDetails(json, brain);
            json.WriteStartObject("model_info");
            json.WriteEndObject();
            json.WriteStartArray("capabilities");
            json.WriteStringValue("completion");
            json.WriteEndArray();
            json.WriteString("modified_at", OllamaResponses.Timestamp(Modified(brain)));
        })).ConfigureAwait(false);
    }

    private static Task VersionAsync(HttpContext context, SiosServices services, SiosMetrics metrics)
    {
        _ = Authentication.Require(context, services.Keys, metrics);
        return DoorJson.WriteAsync(context, DoorJson.Object(json => json.WriteString("version", ApiVersion)));
    }

    /// <summary>
    /// A <c>models</c> list. What Ollama knows from a model's manifest and SIOS does not (family, parameter size,
    /// quantisation) is empty rather than guessed. A running brain has no <c>expires_at</c> to promise (the pool
    /// unloads by its keep-alive and memory budget, whichever comes first), and no VRAM: this build runs on the CPU.
    /// </summary>
    private static byte[] Models(IEnumerable<BrainManifest> brains, bool running) => DoorJson.Object(json =>
    {
        json.WriteStartArray("models");
        foreach (var brain in brains)
        {
            json.WriteStartObject();
            json.WriteString("name", brain.Name + OllamaRequests.LatestTag);
            json.WriteString("model", brain.Name + OllamaRequests.LatestTag);
            if (!running)
            {
                json.WriteString("modified_at", OllamaResponses.Timestamp(Modified(brain)));
            }

            json.WriteNumber("size", Size(brain));
            json.WriteString("digest", Digest(brain));
            WriteDetails(json, brain);
            if (running)
            {
                json.WriteString("expires_at", OllamaResponses.Timestamp(NoTime));
                json.WriteNumber("size_vram", 0);
                json.WriteNumber("context_length", brain.ContextSize ?? 0);
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
    });

    private static void WriteDetails(Utf8JsonWriter json, BrainManifest brain)
    {
        json.WriteStartObject("details");
        json.WriteString("parent_model", "");
        json.WriteString("format", brain.Upstream is null ? "gguf" : "");
        json.WriteString("family", "");
        json.WriteNull("families");
        json.WriteString("parameter_size", "");
        json.WriteString("quantization_level", "");
        json.WriteEndObject();
    }

    /// <summary>The weights file that makes the brain what it is: a LoRA specialist's adapter, otherwise its GGUF (none for an upstream brain).</summary>
    private static (string? Path, string? Digest) OwnWeights(BrainManifest brain) =>
        brain.AdapterPath is { } adapter ? (adapter, brain.AdapterSha256) : (brain.ModelPath, brain.ModelSha256);

    /// <summary>The hex of the pinned digest of <see cref="OwnWeights"/>, as Ollama gives a model's digest.</summary>
    private static string Digest(BrainManifest brain) => OwnWeights(brain).Digest is { } digest ? digest.Replace("sha256:", "", StringComparison.Ordinal) : "";

    private static DateTimeOffset Modified(BrainManifest brain) =>
        OwnWeights(brain).Path is { } path && File.Exists(path) ? new DateTimeOffset(File.GetLastWriteTimeUtc(path)) : NoTime;

    /// <summary>Bytes of the weights the brain loads (its GGUF and adapter).</summary>
    private static long Size(BrainManifest brain) =>
        new[] { brain.ModelPath, brain.AdapterPath }.Where(File.Exists).Sum(path => new FileInfo(path!).Length);
}
