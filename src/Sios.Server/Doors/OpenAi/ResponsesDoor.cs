using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Sios.Server.Access;
using Sios.Server.Hosting;
using Sios.Server.Doors;
using Sios.Server.Http;
using Sios.Server.Inference;
using Sios.Server.Vault;

namespace Sios.Server.Doors.OpenAi;

/// <summary>
/// OpenAI's Responses API (<c>/v1/responses</c>), sealed as <c>responses</c>; its stored responses are read back and
/// deleted by their owner key only.
/// </summary>
internal sealed class ResponsesDoor(StoredResponses? store) : IGenerationDoor
{
    private readonly ResponsesRequests _requests = new(store);

    public string Api => "responses";

    public ErrorShape Errors => ErrorShape.OpenAi;

    public GenerationRequest Parse(JsonElement root, ApiPrincipal caller) => _requests.Parse(root, caller);

    public IAnswerWriter Writer(AnswerContext answer) => new ResponsesAnswer(answer, store);

    /// <summary>
    /// <c>GET /v1/responses/{id}</c>: the caller's stored response object as it was answered (for a stream, the
    /// response its last event carried). Not sealed: it gives the key back an answer already sealed and sent to it.
    /// </summary>
    public Task GetAsync(HttpContext context, string id, SiosServices services, SiosMetrics metrics)
    {
        var caller = Authentication.Require(context, services.Keys, metrics);
        var content = Find(id, caller);
        var body = content.Response.Length > 0 && content.Response[0] == (byte)'{'
            ? content.Response
            : JsonSerializer.SerializeToUtf8Bytes(ResponsesItems.Final(content.Response));
        return DoorJson.WriteAsync(context, body);
    }

    /// <summary>
    /// <c>DELETE /v1/responses/{id}</c>: the caller's claim on its stored response is removed, so no key reads it back
    /// or continues from it; the sealed exchange stays in the vault for the operator, under its retention.
    /// </summary>
    public Task DeleteAsync(HttpContext context, string id, SiosServices services, SiosMetrics metrics)
    {
        var caller = Authentication.Require(context, services.Keys, metrics);
        _ = Find(id, caller);
        store!.Delete(id["resp_".Length..], caller.KeyId);
        return DoorJson.WriteAsync(context, DoorJson.Object(json =>
        {
            json.WriteString("id", id);
            json.WriteString("object", "response");
            json.WriteBoolean("deleted", true);
        }));
    }

    private VaultContent Find(string id, ApiPrincipal caller)
    {
        if (store is not { IsStoring: true })
        {
            throw new ApiException(404, "This server keeps no content (its vault retention is 0), so it has no stored responses.", code: "response_not_found");
        }

        // The same 404 for a response never stored, expired, deleted or another key's: ids of others are not revealed.
        return (id.StartsWith("resp_", StringComparison.Ordinal) ? store.Read(id["resp_".Length..], caller.KeyId) : null)
            ?? throw new ApiException(404, $"No response with id '{id}' was found.", code: "response_not_found");
    }
}
