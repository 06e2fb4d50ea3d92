using System.Text.Json;
using Sios.Server.Access;
using Sios.Server.Http;
using Sios.Server.Inference;

namespace Sios.Server.Doors.Anthropic;

/// <summary>Anthropic's Messages API (<c>POST /v1/messages</c>), sealed as <c>messages</c>.</summary>
internal sealed class AnthropicDoor : IGenerationDoor
{
    /// <summary>The one instance: the door keeps no state.</summary>
    public static AnthropicDoor Instance { get; } = new();

    public string Api => "messages";

    public ErrorShape Errors => ErrorShape.Anthropic;

    public GenerationRequest Parse(JsonElement root, ApiPrincipal caller) => AnthropicRequests.Parse(root);

    public IAnswerWriter Writer(AnswerContext answer) => new AnthropicResponses(answer.Id, answer.Model);
}
