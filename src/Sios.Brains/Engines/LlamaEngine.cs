using System.Runtime.CompilerServices;
using System.Text;
using LLama;
using LLama.Common;
using LLama.Exceptions;
using LLama.Native;
using LLama.Sampling;
using Sios.Brains.Prompts;
using Sios.Brains.Tools;

namespace Sios.Brains.Engines;

/// <summary>
/// A brain run in-process by llama.cpp (through LLamaSharp): the model's chat template, seeded
/// temperature/top-p sampling, stop sequences, max_tokens, GBNF-constrained JSON, streaming with prompt
/// cancellation, and concurrent requests decoded together by a continuous-batching loop on one context.
/// </summary>
public sealed class LlamaEngine : IBrainEngine
{
    private readonly bool _ownsModel;
    private readonly LlamaEngineOptions _options;
    private readonly LoraAdapter? _adapter;
    private readonly LLamaContext _context;
    private readonly DecodeLoop _loop;
    private readonly PromptTemplate? _template;
    private readonly string? _templateProblem;
    private readonly IReadOnlySet<int> _visibleSpecials;
    private readonly SemaphoreSlim _embedGate = new(1, 1);
    private LLamaContext? _embedContext;
    private int _disposed;

    internal LlamaEngine(LlamaModel model, bool ownsModel, LlamaEngineOptions options, LoraAdapter? adapter)
    {
        options.Validate();
        Model = model;
        _ownsModel = ownsModel;
        _options = options;
        _adapter = adapter;
        ContextSize = Math.Min(options.ContextSize, model.TrainedContext);
        (_template, _templateProblem) = ResolveTemplate(model, options.ChatTemplate);
        _visibleSpecials = _template is null ? new HashSet<int>() : VisibleSpecials(model, _template.ToolFormat);

        model.EngineStarted();
        try
        {
            _context = model.Weights.CreateContext(ContextParams(
                contextSize: ContextSize * options.MaxParallel, batch: options.BatchSize, sequences: options.MaxParallel, embeddings: false));
        }
        catch
        {
            model.EngineStopped();
            throw;
        }

        try
        {
            ApplyAdapter(_context);
            _loop = new DecodeLoop(_context.NativeHandle, options.MaxParallel, ContextSize, options.BatchSize,
                System.IO.Path.GetFileName(adapter?.Path ?? model.Path), options.PromptCache);
        }
        catch
        {
            _context.Dispose();
            model.EngineStopped();
            throw;
        }
    }

    /// <summary>The base weights this engine runs on (shared with other engines of the same model).</summary>
    public LlamaModel Model { get; }

    /// <inheritdoc />
    public string ModelDigest => _options.ModelDigest;

    /// <summary>The LoRA adapter file applied on top of the base, or null.</summary>
    public string? AdapterPath => _adapter?.Path;

    /// <summary>Tokens one request may use (prompt plus answer).</summary>
    public int ContextSize { get; }

    /// <summary>Requests decoded together; more wait in FIFO order.</summary>
    public int MaxParallel => _options.MaxParallel;

    /// <summary>CPU threads used for decoding.</summary>
    public int Threads => _options.Threads;

    /// <summary>Length of the vectors <see cref="EmbedAsync"/> returns.</summary>
    public int EmbeddingSize => Model.EmbeddingSize;

    /// <summary>Whether chats can be templated (the model has a usable template, or one was configured).</summary>
    public bool HasChatTemplate => _templateProblem is null;

    /// <summary>The chat template chats are rendered with, or null when the model has none.</summary>
    public PromptTemplate? Template => _template;

    /// <summary>
    /// Loads the GGUF at <paramref name="modelPath"/> for this engine alone (disposed with it). To share one base
    /// between several specialists use <see cref="LlamaModel.LoadAsync"/> and <see cref="LlamaModel.CreateSpecialist"/>.
    /// </summary>
    /// <exception cref="ModelLoadException">The model or adapter cannot be loaded.</exception>
    public static async Task<LlamaEngine> LoadAsync(string modelPath, LlamaEngineOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var model = await LlamaModel.LoadAsync(modelPath, options.GpuLayers, ct).ConfigureAwait(false);
        try
        {
            var adapter = options.LoraAdapterPath is null ? null : model.GetAdapter(options.LoraAdapterPath);
            return new LlamaEngine(model, ownsModel: true, options, adapter);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Renders <paramref name="messages"/> with the chat template, ready for the assistant's turn.</summary>
    /// <exception cref="MissingChatTemplateException">The model has no usable template and none was configured.</exception>
    public string RenderPrompt(IReadOnlyList<ChatMessage> messages) => RenderPrompt(new ChatRequest { Messages = messages });

    /// <summary>Renders <paramref name="request"/>'s conversation and tools with the chat template, exactly as the model reads it.</summary>
    /// <exception cref="MissingChatTemplateException">The model has no usable template and none was configured.</exception>
    /// <exception cref="ChatTemplateRefusedException">The template refuses the conversation.</exception>
    public string RenderPrompt(ChatRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return _template is null ? throw new MissingChatTemplateException(_templateProblem!) : _template.Render(request);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<GenerationUpdate> GenerateAsync(ChatRequest request, [EnumeratorCancellation] CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        request.Validate();
        ct.ThrowIfCancellationRequested();

        var prompt = request.Prompt is { } raw ? Tokenize(raw, special: false) : Tokenize(RenderPrompt(request), special: true);
        if (prompt.Length >= ContextSize)
        {
            throw new ContextWindowExceededException(
                $"The prompt is {prompt.Length} tokens; this brain's context holds {ContextSize} tokens per request, including the answer.");
        }

        var calling = ToolCalling.For(request, _template?.ToolFormat);
        var job = calling is null
            ? new GenerationJob(prompt, request.MaxTokens, request.Stop, CreateSampler(request, null)) { CacheScope = request.CacheScope }
            : new GenerationJob(prompt, request.MaxTokens, request.Stop, CreateSampler(request, calling.CallsOnly ? calling.Grammar : null))
            {
                CacheScope = request.CacheScope,
                Lazy = calling.CallsOnly || request.ResponseFormat is not ResponseFormat.TextFormat
                    ? null
                    : new LazyGrammar(calling.Format.Marker, calling.Format.CallPrefix, calling.Format.AtStartOnly, () => CreateSampler(request, calling.Grammar)),
                Visible = _visibleSpecials,
            };
        using var registration = ct.Register(() =>
        {
            job.Cancel();
            _loop.Wake();
        });
        _loop.Submit(job);
        try
        {
            var updates = job.Updates.Reader.ReadAllAsync(ct);
            await foreach (var update in (calling is null ? updates : calling.Split(updates, ct)).ConfigureAwait(false))
            {
                yield return update;
            }
        }
        finally
        {
            if (!job.Done)
            {
                job.Cancel();
                _loop.Wake();
            }
        }
    }

    /// <inheritdoc />
    public async Task<EmbeddingResult> EmbedAsync(IReadOnlyList<string> inputs, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var tokenized = new LLamaToken[inputs.Count][];
        for (var i = 0; i < inputs.Count; i++)
        {
            if (string.IsNullOrEmpty(inputs[i]))
            {
                throw new ArgumentException($"Input {i} is empty; there is nothing to embed.", nameof(inputs));
            }

            tokenized[i] = Tokenize(inputs[i], special: false);
            if (tokenized[i].Length > ContextSize)
            {
                throw new ContextWindowExceededException($"Input {i} is {tokenized[i].Length} tokens; embeddings take at most {ContextSize}.");
            }
        }

        await _embedGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var vectors = await Task.Run(() => EmbedAll(tokenized, ct), ct).ConfigureAwait(false);
            return new EmbeddingResult(vectors, tokenized.Sum(t => t.Length));
        }
        finally
        {
            _embedGate.Release();
        }
    }

    /// <summary>Stops the decode loop (unfinished requests fail), frees the contexts, and the model if this engine loaded it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await Task.Run(_loop.Dispose).ConfigureAwait(false);
        _context.Dispose();
        await _embedGate.WaitAsync().ConfigureAwait(false);
        _embedContext?.Dispose();
        _embedGate.Dispose();
        Model.EngineStopped();
        if (_ownsModel)
        {
            Model.Dispose();
        }
    }

    private LLamaToken[] Tokenize(string text, bool special) =>
        Model.Weights.NativeHandle.Tokenize(text, Model.Weights.Vocab.ShouldAddBOS, special, Encoding.UTF8);

    /// <summary>The sampler of <paramref name="request"/>, constrained by <paramref name="grammar"/> if given, else by its response format.</summary>
    private static DefaultSamplingPipeline CreateSampler(ChatRequest request, string? grammar)
    {
        grammar ??= request.ResponseFormat switch
        {
            ResponseFormat.JsonObjectFormat => JsonGrammar.AnyObject,
            ResponseFormat.JsonSchemaFormat s => JsonSchemaGrammar.FromSchema(s.Schema),
            _ => null,
        };

        return new DefaultSamplingPipeline
        {
            Temperature = request.Temperature,
            TopP = request.TopP,
            TopK = 0,
            MinP = 0,
            TypicalP = 1,
            RepeatPenalty = 1,
            Seed = request.Seed ?? (uint)Random.Shared.Next(),
            Grammar = grammar is null ? null : new Grammar(grammar, "root"),
        };
    }

    private float[][] EmbedAll(LLamaToken[][] inputs, CancellationToken ct)
    {
        _embedContext ??= CreateEmbeddingContext();
        var handle = _embedContext.NativeHandle;
        var batch = new LLamaBatch();
        var results = new float[inputs.Length][];
        for (var i = 0; i < inputs.Length; i++)
        {
            ct.ThrowIfCancellationRequested();
            handle.MemoryClear(true);
            batch.Clear();
            batch.AddRange(inputs[i], 0, LLamaSeqId.Zero, true);
            var result = handle.Decode(batch);
            if (result != DecodeResult.Ok)
            {
                throw new InferenceException($"llama.cpp could not compute the embedding of input {i} ({result}).");
            }

            results[i] = EmbeddingVector.Normalised(handle.GetEmbeddingsSeq(LLamaSeqId.Zero));
        }

        return results;
    }

    private LLamaContext CreateEmbeddingContext()
    {
        var context = Model.Weights.CreateContext(ContextParams(ContextSize, ContextSize, sequences: 1, embeddings: true));
        try
        {
            ApplyAdapter(context);
            return context;
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    private ModelParams ContextParams(int contextSize, int batch, int sequences, bool embeddings) => new(Model.Path)
    {
        ContextSize = (uint)contextSize,
        BatchSize = (uint)batch,
        // As llama.cpp's defaults: one decode call takes up to the whole batch (every new prompt of a step together),
        // computed in micro-batches of at most 512 tokens.
        UBatchSize = (uint)Math.Min(batch, 512),
        SeqMax = (uint)sequences,
        KVUnified = false,
        // Flash attention, which llama-server's default ('auto') turns on wherever the backend has it, as a CPU does:
        // set here so the engine runs what the peer it is measured against runs, whatever LLamaSharp's default is.
        FlashAttention = true,
        Threads = _options.Threads,
        BatchThreads = _options.Threads,
        Embeddings = embeddings,
        PoolingType = embeddings ? LLamaPoolingType.Mean : LLamaPoolingType.Unspecified,
    };

    private void ApplyAdapter(LLamaContext context)
    {
        if (_adapter is not null)
        {
            context.NativeHandle.SetLoraAdapters((_adapter, _options.LoraScale));
        }
    }

    /// <summary>
    /// The template chats are rendered with: the configured text, else the GGUF's own <c>tokenizer.chat_template</c>,
    /// with the GGUF's BOS/EOS token texts. A template that cannot run refuses the load, naming the construct.
    /// </summary>
    /// <exception cref="ModelLoadException">The template cannot be parsed or fails on a one-message chat.</exception>
    private static (PromptTemplate? Template, string? Problem) ResolveTemplate(LlamaModel model, string? configured)
    {
        if (configured is null)
        {
            return PromptTemplate.FromGguf(model.Header, model.Path) is { } own
                ? (own, null)
                : (null, $"The model '{model.Path}' has no chat template (tokenizer.chat_template) and none is configured; " +
                    "only raw completions can be served from it.");
        }

        var (bos, eos) = PromptTemplate.SpecialTokenTexts(model.Header);
        return (PromptTemplate.Load(configured, bos, eos, model.Path + " (as configured)", PromptTemplate.ControlTokenTexts(model.Header)), null);
    }

    /// <summary>The control tokens that spell the tool-call markers of <paramref name="format"/>, which are shown as text so calls can be read.</summary>
    private static HashSet<int> VisibleSpecials(LlamaModel model, ToolCallFormat format)
    {
        var set = new HashSet<int>();
        foreach (var text in format.SpecialTexts)
        {
            var special = model.Weights.NativeHandle.Tokenize(text, false, true, Encoding.UTF8);
            if (special.Length == 1 && model.Weights.NativeHandle.Tokenize(text, false, false, Encoding.UTF8).Length != 1)
            {
                set.Add((int)special[0]);
            }
        }

        return set;
    }
}
