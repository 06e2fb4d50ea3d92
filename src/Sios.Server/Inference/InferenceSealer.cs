using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Sios.Brains.Engines;
using Sios.Brains.Registry;
using Sios.Ledger.Pipeline;
using Sios.Server.Access;
using Sios.Server.Hosting;
using Sios.Server.Http;
using Sios.Verify.Commitments;
using Sios.Verify.Entries;

namespace Sios.Server.Inference;

/// <summary>What is known of one inference request as it goes, for its sealed entries (SPEC §2).</summary>
internal sealed class InferenceRecord(string id, ApiPrincipal key, string api, ErrorShape errors = ErrorShape.OpenAi)
{
    /// <summary>When the request was admitted (a <see cref="Stopwatch"/> timestamp), for its Server-Timing.</summary>
    public long Started { get; } = Stopwatch.GetTimestamp();

    /// <summary>The id of the <c>inference</c> entry, made up front because the response nonce derives from it.</summary>
    public string Id { get; } = id;

    /// <summary>The key the request came with.</summary>
    public ApiPrincipal Key { get; } = key;

    public string Actor => Key.Actor;

    /// <summary>The door it came through: the <c>api</c> member of its entries.</summary>
    public string Api { get; } = api;

    /// <summary>The shape of its door's error bodies.</summary>
    public ErrorShape Errors { get; } = errors;

    public BrainManifest? Brain { get; set; }

    public bool Stream { get; set; }

    /// <summary>The request commitment, once the body has been read in full.</summary>
    public string? RequestCommitment { get; set; }

    /// <summary>The exact request body the request commitment covers, once read (kept in the vault after the seal).</summary>
    public byte[]? RequestBody { get; set; }

    /// <summary>The request nonce (base64), sent back to the client.</summary>
    public string? RequestNonce { get; set; }

    /// <summary>The index of the stream's <c>inference.begin</c> entry.</summary>
    public long? BeginIndex { get; set; }

    /// <summary>How many tools the request offered, or null when it offered none.</summary>
    public int? ToolsOffered { get; set; }

    /// <summary>Names of the tools a stream has called so far, in order.</summary>
    public List<string> Called { get; } = [];
}

/// <summary>How an inference ended, for its <c>inference</c> entry.</summary>
internal sealed record InferenceOutcome(string Finish, int Status, int? PromptTokens = null, int? CompletionTokens = null)
{
    /// <summary>Refusals of the same key answered but not sealed on their own since its last sealed one (see SealBudget).</summary>
    public int Folded { get; init; }

    /// <summary>Names of the tools the answer called (names only: the arguments stay inside the response commitment).</summary>
    public IReadOnlyList<string> Called { get; init; } = [];
}

/// <summary>
/// Seals inference requests: derives the nonces (HMAC of the commitment secret over entry id and field), computes
/// the commitments over the exact bytes, writes the <c>inference.begin</c> / <c>inference</c> entries and waits until
/// each is durable and under a signed checkpoint. Seals are never cancelled by the client going away: a request
/// that was answered, even in part, is recorded.
/// </summary>
internal sealed class InferenceSealer(TransparencyLog log, byte[] commitmentSecret, SiosMetrics metrics, TimeProvider clock)
{
    /// <summary>
    /// Output JSON as OpenAI writes it: UTF-8 text and '+', '&amp;', '&lt;' as themselves, not \u escapes (these bodies are
    /// never embedded in HTML); quotes and control characters are still escaped.
    /// </summary>
    public static readonly System.Text.Json.JsonWriterOptions JsonOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public TimeProvider Clock => clock;

    public byte[] Nonce(string entryId, string field) => Commitment.DeriveNonce(commitmentSecret, entryId, field);

    /// <summary>Commits to the request body under a nonce derived from <paramref name="entryId"/>.</summary>
    public void CommitRequest(InferenceRecord record, string entryId, ReadOnlySpan<byte> body)
    {
        var nonce = Nonce(entryId, "request");
        record.RequestNonce = Convert.ToBase64String(nonce);
        record.RequestCommitment = Commitment.Compute(nonce, body);
    }

    /// <summary>A hash that, fed every response byte, yields the response commitment (the nonce goes first).</summary>
    public IncrementalHash ResponseHash(InferenceRecord record)
    {
        var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Nonce(record.Id, "response"));
        return hash;
    }

    public string ResponseNonce(InferenceRecord record) => Convert.ToBase64String(Nonce(record.Id, "response"));

    /// <summary>Seals <c>inference.begin</c> (the request, before the first byte of a stream) and returns its index.</summary>
    public async Task<long> SealBeginAsync(InferenceRecord record, string beginId, CancellationToken ct)
    {
        // The stream's request is read and committed to before the stream starts, so a begin entry always holds it.
        var request = record.RequestCommitment ?? throw new InvalidOperationException("a stream begins only once its request is committed to");
        var entry = new InferenceBeginEntry(record.Actor, BrainOf(record), request, record.Api).Write(beginId, clock);
        var index = await AppendAsync(entry, ct).ConfigureAwait(false);
        record.BeginIndex = index;
        return index;
    }

    /// <summary>Seals the <c>inference</c> entry with the response commitment and returns its index.</summary>
    public Task<long> SealAsync(InferenceRecord record, string responseCommitment, InferenceOutcome outcome, CancellationToken ct)
    {
        var tokens = outcome.PromptTokens is { } prompt ? new TokenCounts(prompt, outcome.CompletionTokens ?? 0) : null;
        var entry = new InferenceEntry(
            record.Actor, BrainOf(record), record.RequestCommitment, responseCommitment, tokens, outcome.Finish, record.Stream,
            record.BeginIndex, record.Api, outcome.Status, outcome.Folded,
            record.ToolsOffered is { } offered ? new ToolUse(offered, outcome.Called) : null).Write(record.Id, clock);
        return AppendAsync(entry, ct);
    }

    /// <summary>Seals a whole response body at once (a non-streamed answer or an error).</summary>
    public Task<long> SealAsync(InferenceRecord record, ReadOnlySpan<byte> responseBody, InferenceOutcome outcome, CancellationToken ct)
    {
        using var hash = ResponseHash(record);
        hash.AppendData(responseBody);
        return SealAsync(record, Convert.ToBase64String(hash.GetHashAndReset()), outcome, ct);
    }

    /// <summary>The four receipt headers of SPEC §5.</summary>
    public Dictionary<string, string> ReceiptHeaders(InferenceRecord record, long index) => new(StringComparer.Ordinal)
    {
        ["Sios-Log-Index"] = index.ToString(CultureInfo.InvariantCulture),
        ["Sios-Receipt"] = ReceiptPath(index),
        ["Sios-Request-Nonce"] = record.RequestNonce ?? "",
        ["Sios-Response-Nonce"] = ResponseNonce(record),
    };

    /// <summary>The receipt fields a sealed stream ends with (SPEC §5), for its door to write.</summary>
    public StreamReceipt Receipt(InferenceRecord record, long index) =>
        new(index, ReceiptPath(index), record.RequestNonce ?? "", ResponseNonce(record));

    /// <summary>The SSE comment that carries a stream's receipt (SPEC §5): <c>: sios {…}</c>, which SSE readers skip.</summary>
    public static byte[] ReceiptComment(StreamReceipt receipt)
    {
        ArgumentNullException.ThrowIfNull(receipt);
        using var buffer = new MemoryStream();
        buffer.Write(": sios "u8);
        using (var json = new Utf8JsonWriter(buffer, JsonOptions))
        {
            receipt.Write(json);
        }

        buffer.Write("\n\n"u8);
        return buffer.ToArray();
    }

    /// <summary>
    /// The <c>finish</c> of an answer's entry, in SPEC §2's words (<c>stop</c>, <c>length</c>): a tool-call answer is a
    /// <c>stop</c>, its calls named in <c>tools.called</c>; <c>tool_calls</c> is OpenAI's wire word, not the log's.
    /// </summary>
    public static string SealedFinish(FinishReason finish) => finish == FinishReason.Length ? "length" : "stop";

    public static string ReceiptPath(long index) => "/log/receipts/" + index.ToString(CultureInfo.InvariantCulture);

    private async Task<long> AppendAsync(byte[] entry, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var result = await log.AppendAsync(entry, ct).ConfigureAwait(false);
            metrics.Sealed(Stopwatch.GetElapsedTime(started));
            return result.Index;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            metrics.SealFailed();
            throw;
        }
    }

    // An operator-hosted upstream has no weights here to pin: what is sealed is where the answer came from.
    private static BrainRef? BrainOf(InferenceRecord record) => record.Brain is { } brain ? BrainEntries.Ref(brain) : null;

    /// <summary>Bytes of an SSE <c>data:</c> event.</summary>
    public static byte[] DataEvent(ReadOnlySpan<byte> json)
    {
        var bytes = new byte[6 + json.Length + 2];
        "data: "u8.CopyTo(bytes);
        json.CopyTo(bytes.AsSpan(6));
        "\n\n"u8.CopyTo(bytes.AsSpan(6 + json.Length));
        return bytes;
    }

    /// <summary>Bytes of a named SSE event: <c>event: NAME</c>, then its <c>data:</c>.</summary>
    public static byte[] NamedEvent(string name, ReadOnlySpan<byte> json) => [.. Encoding.UTF8.GetBytes("event: " + name + "\n"), .. DataEvent(json)];

    /// <summary>The final <c>data: [DONE]</c> event.</summary>
    public static ReadOnlySpan<byte> Done => "data: [DONE]\n\n"u8;

    /// <summary>UTF-8 of <paramref name="text"/>.</summary>
    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
