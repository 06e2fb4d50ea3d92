using System.Text;
using Sios.Brains.Engines;
using Sios.Brains.Registry;
using Sios.Brains.Synth;
using Sios.Server.Http;
using Sios.Server.Doors.Anthropic;
using Sios.Server.Doors.OpenAi;
using Sios.Server.Inference;
using Sios.Verify;
using Sios.Verify.Audit;
using Sios.Verify.Checkpoints;
using Sios.Verify.Crypto;
using Sios.Verify.Notes;
using Sios.Verify.Receipts;

namespace Sios.Fuzz;

/// <summary>
/// One fuzz target per parser that reads outside input. A target returns when the parser accepted or rejected the
/// input in its documented way (FormatViolationException / VerificationException; the gateway's 4xx ApiException;
/// GGUF's FormatViolationException) and throws anything else, which AFL records as a crash.
/// </summary>
internal static class Targets
{
    /// <summary>The target names, in the order <c>all</c> runs them.</summary>
    public static IReadOnlyList<string> Names { get; } =
        ["signed-note", "checkpoint", "tlog-proof", "vkey", "pem", "entry-bundle", "gguf-header", "chat-request", "messages-request", "responses-request", "json-schema"];

    private static readonly BrainManifest Brain = new() { Name = "tiny", ModelPath = "/nonexistent/tiny.gguf", SystemPrompt = "be brief" };

    /// <summary>The target named <paramref name="name"/>, trusting <paramref name="keys"/> where it verifies signatures.</summary>
    public static Action<byte[]> Get(string name, TrustedKeys keys) => name switch
    {
        "signed-note" => SignedNotes(keys),
        "checkpoint" => Checkpoints(keys),
        "tlog-proof" => Receipts(keys),
        "vkey" => Vkey,
        "pem" => Pem,
        "entry-bundle" => Bundle,
        "gguf-header" => GgufHeaderTarget,
        "chat-request" => input => DoorRequests(input, OpenAiRequests.ParseChat),
        "messages-request" => input => DoorRequests(input, AnthropicRequests.Parse),
        "responses-request" => input => DoorRequests(input, root => new ResponsesRequests(null).Parse(root, FuzzCaller)),
        "json-schema" => JsonSchema,
        _ => throw new ArgumentException($"Unknown fuzz target '{name}'; the targets are: {string.Join(", ", Names)}.", nameof(name)),
    };

    private static Action<byte[]> SignedNotes(TrustedKeys keys)
    {
        var verifiers = keys.Sets.Select(set => new NoteVerifier(set)).ToList();
        return input =>
        {
            if (!Documented.Rejects(() => SignedNote.Parse(input)))
            {
                foreach (var verifier in verifiers)
                {
                    Documented.Rejects(() => verifier.Verify(input));
                }
            }
        };
    }

    private static Action<byte[]> Checkpoints(TrustedKeys keys)
    {
        var verifiers = keys.Sets.Select(set => CheckpointVerifier.ForLogKeys(set)).ToList();
        return input =>
        {
            var text = Encoding.UTF8.GetString(input);
            Checkpoint? body = null;
            if (!Documented.Rejects(() => body = Checkpoint.Parse(text)) && body!.ToNoteText() != text)
            {
                throw new FuzzDefectException("Checkpoint.Parse accepted text that is not in its one canonical form");
            }

            foreach (var verifier in verifiers)
            {
                Documented.Rejects(() => verifier.Verify(input));
            }
        };
    }

    private static Action<byte[]> Receipts(TrustedKeys keys)
    {
        var verifiers = keys.Sets.Select(set => new ReceiptVerifier(set)).ToList();
        return input =>
        {
            if (Documented.Rejects(() =>
                {
                    // A receipt has one encoding: accepting another would let two byte strings stand for one proof.
                    if (!TlogProof.Parse(input).ToBytes().AsSpan().SequenceEqual(input))
                    {
                        throw new FuzzDefectException("TlogProof.Parse accepted a receipt that is not in its one canonical encoding");
                    }
                }))
            {
                return;
            }

            foreach (var verifier in verifiers)
            {
                Documented.Rejects(() => verifier.Verify(input));
            }
        };
    }

    private static void Vkey(byte[] input)
    {
        VerifierKey? key = null;
        if (Documented.Rejects(() => key = VerifierKey.Parse(Encoding.UTF8.GetString(input))))
        {
            return;
        }

        var again = VerifierKey.Parse(key!.ToString());
        if (again.KeyId != key.KeyId || again.Name != key.Name || again.Kind != key.Kind || !again.PublicKey.AsSpan().SequenceEqual(key.PublicKey))
        {
            throw new FuzzDefectException("a parsed vkey does not survive formatting and parsing again");
        }
    }

    private static void Pem(byte[] input) => Documented.Rejects(() =>
    {
        var (algorithm, publicKey) = PublicKeyPem.Parse(Encoding.UTF8.GetString(input));
        if (publicKey.Length != MlDsaSizes.PublicKey(algorithm))
        {
            throw new FuzzDefectException($"PublicKeyPem.Parse returned a {publicKey.Length}-byte key for {algorithm}");
        }
    });

    private static void Bundle(byte[] input)
    {
        foreach (var count in new[] { 1, 2, 3, 256 })
        {
            Documented.Rejects(() =>
            {
                var end = 0;
                foreach (var (offset, length) in EntryBundle.Split(input, count))
                {
                    if (offset < end || length < 0 || offset + length > input.Length)
                    {
                        throw new FuzzDefectException($"EntryBundle.Split returned the range ({offset}, {length}) outside the {input.Length}-byte bundle or overlapping the previous entry");
                    }

                    end = offset + length;
                }
            });
        }
    }

    private static void GgufHeaderTarget(byte[] input) => Documented.Rejects(() =>
    {
        using var stream = new MemoryStream(input, writable: false);
        var header = GgufHeader.Read(stream, "fuzz-input");
        // A file whose tensors hold no bytes may end before its alignment padding (there is nothing to read there), so
        // the data section may start up to one alignment past the end, never further.
        if (header.DataOffset % header.Alignment != 0 || header.DataOffset >= input.Length + (long)header.Alignment)
        {
            throw new FuzzDefectException($"GgufHeader.Read returned the data offset {header.DataOffset} for a {input.Length}-byte file with alignment {header.Alignment}");
        }

        foreach (var tensor in header.Tensors)
        {
            _ = header.FindTensor(tensor.Name) ?? throw new FuzzDefectException($"tensor '{tensor.Name}' is listed but cannot be found");
        }

        foreach (var key in header.Metadata.Keys)
        {
            _ = header.GetString(key);
            _ = header.GetUnsigned(key);
        }
    });

    private static readonly Sios.Server.Access.ApiPrincipal FuzzCaller = new("fuzz", "fuzz", Sios.Server.Access.ApiKeyRole.User, ["*"]);

    /// <summary>A door's request reader, then what a local brain does with what it read: the documented refusal is a 4xx.</summary>
    private static void DoorRequests(byte[] input, Func<System.Text.Json.JsonElement, GenerationRequest> parse)
    {
        GenerationRequest parsed;
        try
        {
            using var doc = JsonFields.ParseObject(input);
            parsed = parse(doc.RootElement);
        }
        catch (ApiException e) when (e.IsClientError)
        {
            return;
        }

        Sios.Brains.Engines.ChatRequest request;
        try
        {
            request = parsed.ToEngineRequest(Brain);
        }
        catch (ArgumentException e) when (IsDeliberate(e) && ApiException.From(e).IsClientError)
        {
            // The engine request's own validation: the gateway answers it with a 400 naming the field.
            return;
        }

        try
        {
            // What a local brain does next: the conversation, calls and results through a real chat template.
            _ = ToolPrompt.Value.Render(request);
        }
        catch (Sios.Brains.Engines.ChatTemplateRefusedException)
        {
            // The template's own refusal of a conversation: a 400 naming it.
        }
    }

    private static readonly Lazy<Sios.Brains.Prompts.PromptTemplate> ToolPrompt =
        new(() => Sios.Brains.Prompts.PromptTemplate.Load(Sios.Brains.Synth.ToolTemplate.HermesChatMl, "<|endoftext|>", "<|im_end|>", "fuzz"));

    /// <summary>Wall time one schema may take to compile or be refused (it takes milliseconds; AFL's own timeout is 2 s).</summary>
    private static readonly TimeSpan SchemaTime = TimeSpan.FromSeconds(1);

    /// <summary>Bytes one schema may allocate while compiling, beyond 64 per input byte (the parsed document and its copies).</summary>
    private const long SchemaAllocation = 64L << 20;

    /// <summary>
    /// The client's response_format schema, as a llama.cpp engine turns it into a grammar; its documented refusal is an
    /// ArgumentException, which the gateway answers with a 400. Beyond not crashing, compiling must stay within its cost
    /// (time, allocation) and an accepted grammar within <see cref="JsonSchemaLimits"/>, passing the same check again:
    /// a breach is a defect.
    /// </summary>
    private static void JsonSchema(byte[] input)
    {
        string schema;
        try
        {
            schema = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(input);
        }
        catch (DecoderFallbackException)
        {
            return;
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string? grammar = null;
        try
        {
            grammar = JsonSchemaGrammar.FromSchema(schema);
        }
        catch (ArgumentException e) when (IsDeliberate(e))
        {
            // The documented refusal.
        }

        var elapsed = clock.Elapsed;
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        if (elapsed > SchemaTime || allocated > SchemaAllocation + (64L * input.Length))
        {
            throw new FuzzDefectException($"Compiling the schema took {elapsed.TotalMilliseconds:F0} ms and allocated {allocated >> 10} KiB.");
        }

        if (grammar is null)
        {
            return;
        }

        var report = GbnfCheck.Run(grammar, JsonSchemaLimits.MaxExpandedElements, JsonSchemaLimits.MaxParallelPaths);
        if (grammar.Length > JsonSchemaLimits.MaxGrammarChars || report.Fault != GbnfFault.None)
        {
            throw new FuzzDefectException($"An accepted schema's grammar is over budget: {grammar.Length} characters, {report.Fault}.");
        }
    }

    /// <summary>
    /// A plain ArgumentException is a parser's deliberate refusal; its subclasses (out of range, null) come from a call
    /// the parser did not guard, which the gateway would also turn into a 400 and so hide.
    /// </summary>
    private static bool IsDeliberate(ArgumentException e) => e.GetType() == typeof(ArgumentException);

    /// <summary>Runs parsers, letting only the documented rejections pass.</summary>
    private static class Documented
    {
        /// <summary>Runs <paramref name="parse"/>; true when it rejected the input with a documented exception.</summary>
        public static bool Rejects(Action parse)
        {
            try
            {
                parse();
                return false;
            }
            catch (FormatViolationException)
            {
                return true;
            }
            catch (VerificationException)
            {
                return true;
            }
        }
    }
}
