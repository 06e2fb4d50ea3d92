using System.Text.Json;
using Sios.Brains.Engines;
using Sios.Server.Access;
using Sios.Server.Http;
using Sios.Server.Inference;

namespace Sios.Server.Doors.OpenAi;

/// <summary>OpenAI's chat completions (<c>/v1/chat/completions</c>) or text completions (<c>/v1/completions</c>).</summary>
internal sealed class OpenAiCompletionsDoor : IGenerationDoor
{
    private readonly bool _chat;

    private OpenAiCompletionsDoor(bool chat) => _chat = chat;

    /// <summary>The chat completions door.</summary>
    public static OpenAiCompletionsDoor Chat { get; } = new(chat: true);

    /// <summary>The legacy text completions door.</summary>
    public static OpenAiCompletionsDoor Text { get; } = new(chat: false);

    public string Api => _chat ? "chat.completions" : "completions";

    public ErrorShape Errors => ErrorShape.OpenAi;

    public GenerationRequest Parse(JsonElement root, ApiPrincipal caller) =>
        _chat ? OpenAiRequests.ParseChat(root) : OpenAiRequests.ParseCompletion(root);

    public IAnswerWriter Writer(AnswerContext answer) =>
        new OpenAiResponses(_chat, answer.Id, answer.Model, answer.Created.ToUnixTimeSeconds(), answer.Request.IncludeUsage);
}

/// <summary>OpenAI's embeddings (<c>/v1/embeddings</c>).</summary>
internal sealed class OpenAiEmbeddingsDoor : IEmbeddingDoor
{
    /// <summary>The one instance: the door keeps no state.</summary>
    public static OpenAiEmbeddingsDoor Instance { get; } = new();

    public string Api => "embeddings";

    public ErrorShape Errors => ErrorShape.OpenAi;

    public EmbeddingsRequest Parse(JsonElement root) => OpenAiRequests.ParseEmbeddings(root);

    public byte[] Answer(EmbeddingsRequest request, string model, EmbeddingResult result) => OpenAiResponses.Embeddings(model, result, request.Base64);
}
