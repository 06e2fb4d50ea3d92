using System.Text.Json;
using Sios.Brains.Engines;
using Sios.Server.Access;
using Sios.Server.Http;

namespace Sios.Server.Inference;

/// <summary>
/// A front door that generates: how one API's requests are read and its answers written. Everything behind it (keys,
/// scopes, rate limits, sealing, receipts, the vault) is the one pipeline of <see cref="InferenceHandler"/>, so every
/// door's answers are sealed and verified the same way; a door keeps no state of its own.
/// </summary>
internal interface IGenerationDoor
{
    /// <summary>The <c>api</c> member of its sealed entries (SPEC §2).</summary>
    string Api { get; }

    /// <summary>The shape of its error bodies.</summary>
    ErrorShape Errors { get; }

    /// <summary>Reads a request, refusing what does not fit with a 400 that names the field.</summary>
    /// <param name="root">The body, already parsed as one JSON object.</param>
    /// <param name="caller">The key it came with (a door that reads stored state reads only the caller's own).</param>
    GenerationRequest Parse(JsonElement root, ApiPrincipal caller);

    /// <summary>The writer of one answer's bytes.</summary>
    IAnswerWriter Writer(AnswerContext answer);
}

/// <summary>A front door that embeds: its request and answer shapes over the one pipeline.</summary>
internal interface IEmbeddingDoor
{
    /// <summary>The <c>api</c> member of its sealed entries.</summary>
    string Api { get; }

    /// <summary>The shape of its error bodies.</summary>
    ErrorShape Errors { get; }

    /// <summary>Reads a request, refusing what does not fit with a 400 that names the field.</summary>
    EmbeddingsRequest Parse(JsonElement root);

    /// <summary>The whole answer's bytes.</summary>
    byte[] Answer(EmbeddingsRequest request, string model, EmbeddingResult result);
}

/// <summary>What a writer knows of the answer it writes.</summary>
/// <param name="Id">The id of the answer's <c>inference</c> entry, from which each door makes its own answer id.</param>
/// <param name="Model">The brain's name.</param>
/// <param name="Created">When the answer was begun.</param>
/// <param name="Request">The request as the door read it.</param>
internal sealed record AnswerContext(string Id, string Model, DateTimeOffset Created, GenerationRequest Request)
{
    /// <summary>When the request was admitted (a <see cref="System.Diagnostics.Stopwatch"/> timestamp), for a door that reports durations.</summary>
    public long Admitted { get; init; } = System.Diagnostics.Stopwatch.GetTimestamp();
}

/// <summary>The receipt fields of SPEC §5, as a stream's last event carries them.</summary>
/// <param name="Index">The log index of the answer's <c>inference</c> entry.</param>
/// <param name="Receipt">The path of its receipt.</param>
/// <param name="RequestNonce">The request commitment's nonce (base64).</param>
/// <param name="ResponseNonce">The response commitment's nonce (base64).</param>
internal sealed record StreamReceipt(long Index, string Receipt, string RequestNonce, string ResponseNonce)
{
    /// <summary>Writes <c>{"index","receipt","request_nonce","response_nonce"}</c>.</summary>
    public void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteNumber("index", Index);
        json.WriteString("receipt", Receipt);
        json.WriteString("request_nonce", RequestNonce);
        json.WriteString("response_nonce", ResponseNonce);
        json.WriteEndObject();
    }
}

/// <summary>
/// The bytes of one answer in a door's shape: the whole body, or a stream's events in order. Everything a stream
/// writes before <see cref="Receipt"/> is covered by the response commitment; the receipt itself comes after the seal.
/// </summary>
internal interface IAnswerWriter
{
    /// <summary>The media type of the stream.</summary>
    string StreamType { get; }

    /// <summary>A whole (non-streamed) answer.</summary>
    byte[] Whole(string text, FinishReason finish, Usage usage, IReadOnlyList<FunctionCallContent> calls);

    /// <summary>
    /// The events that open a stream, written once the brain has begun (so <paramref name="usage"/>, when the engine
    /// reports it, holds the prompt's token count).
    /// </summary>
    IEnumerable<byte[]> Start(Usage? usage);

    /// <summary>The events of a piece of text.</summary>
    IEnumerable<byte[]> Text(string text);

    /// <summary>The events of a piece of a call as it is generated.</summary>
    IEnumerable<byte[]> CallDelta(FunctionCallDelta delta);

    /// <summary>The events of a call that was not streamed piece by piece, the <paramref name="index"/>-th of the answer.</summary>
    IEnumerable<byte[]> Call(FunctionCallContent call, int index);

    /// <summary>The events that end an answered stream.</summary>
    IEnumerable<byte[]> Finish(FinishReason finish, Usage usage);

    /// <summary>The event of a failure that ends a stream early.</summary>
    byte[] Failure(ApiException error);

    /// <summary>The last bytes of a sealed stream, carrying its receipt; <paramref name="answered"/> when it was not cut short.</summary>
    byte[] Receipt(StreamReceipt receipt, bool answered);

    /// <summary>Called once the answer is sealed and its exact bytes kept in the vault (a door that stores answers claims them here).</summary>
    void Kept(ApiPrincipal caller)
    {
    }
}
