using System.Text.Json;
using Sios.Brains.Engines;
using Sios.Server.Access;
using Sios.Server.Http;
using Sios.Server.Inference;

namespace Sios.Server.Doors.Ollama;

/// <summary>Ollama's chat (<c>/api/chat</c>) or generate (<c>/api/generate</c>).</summary>
internal sealed class OllamaGenerationDoor : IGenerationDoor
{
    private readonly bool _chat;

    private OllamaGenerationDoor(bool chat) => _chat = chat;

    /// <summary>The chat door.</summary>
    public static OllamaGenerationDoor Chat { get; } = new(chat: true);

    /// <summary>The generate door.</summary>
    public static OllamaGenerationDoor Generate { get; } = new(chat: false);

    public string Api => _chat ? "ollama.chat" : "ollama.generate";

    public ErrorShape Errors => ErrorShape.Ollama;

    public GenerationRequest Parse(JsonElement root, ApiPrincipal caller) =>
        _chat ? OllamaRequests.ParseChat(root) : OllamaRequests.ParseGenerate(root);

    public IAnswerWriter Writer(AnswerContext answer) => new OllamaResponses(_chat, answer);
}

/// <summary>Ollama's embeddings (<c>/api/embed</c>).</summary>
internal sealed class OllamaEmbedDoor : IEmbeddingDoor
{
    /// <summary>The one instance: the door keeps no state.</summary>
    public static OllamaEmbedDoor Instance { get; } = new();

    public string Api => "ollama.embed";

    public ErrorShape Errors => ErrorShape.Ollama;

    public EmbeddingsRequest Parse(JsonElement root) => OllamaRequests.ParseEmbed(root);

    public byte[] Answer(EmbeddingsRequest request, string model, EmbeddingResult result) =>
        OllamaResponses.Embeddings(request is OllamaEmbedRequest { Asked: var asked } ? asked : model, result);
}
