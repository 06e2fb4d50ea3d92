using System.Threading.Channels;
using LLama.Native;
using LLama.Sampling;

namespace Sios.Brains.Engines;

/// <summary>One chat generation as the decode loop sees it.</summary>
internal sealed class GenerationJob(LLamaToken[] prompt, int maxTokens, IReadOnlyList<string> stops, ISamplingPipeline sampler)
{
    private int _cancelled;

    public LLamaToken[] Prompt { get; } = prompt;
    public int MaxTokens { get; } = maxTokens;
    /// <summary>The sampler of the next token; replaced when a <see cref="Lazy"/> grammar engages.</summary>
    public ISamplingPipeline Sampler { get; set; } = sampler;

    /// <summary>A grammar waiting for its marker, or null.</summary>
    public LazyGrammar? Lazy { get; init; }

    /// <summary>Control tokens shown as text (tool-call markers), or null to show none.</summary>
    public IReadOnlySet<int>? Visible { get; init; }

    /// <summary>Whose cached prompt prefixes this job may reuse and leave behind; null reuses and leaves none.</summary>
    public string? CacheScope { get; init; }
    public AnswerText Text { get; } = new(stops);
    public Channel<GenerationUpdate> Updates { get; } =
        Channel.CreateUnbounded<GenerationUpdate>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    public bool IsCancelled => Volatile.Read(ref _cancelled) != 0;

    /// <summary>Marks the job cancelled; the loop drops it before its next decode step.</summary>
    public void Cancel() => Interlocked.Exchange(ref _cancelled, 1);

    internal LLamaSeqId Sequence;
    internal SequenceSlot? Slot;
    internal int Cached;
    internal int Chunk;
    internal bool KvLost;
    internal readonly List<LLamaToken> Fed = [];
    internal int Position;
    internal int Prefilled;
    internal int Completion;
    internal int LogitIndex = -1;
    internal LLamaToken Next;
    internal bool Done;

    /// <summary>Ends the stream with <paramref name="error"/> (or normally when null) and marks the job for retirement.</summary>
    public void Complete(Exception? error)
    {
        Done = true;
        Updates.Writer.TryComplete(error);
    }
}

/// <summary>
/// A KV sequence of the context, and while it is free, what it still holds: the tokens at positions 0.. and the
/// scope they belong to, so a later request of the same scope that starts with them decodes only the rest.
/// </summary>
internal sealed class SequenceSlot(int sequence)
{
    public LLamaSeqId Sequence { get; } = (LLamaSeqId)sequence;

    public string? Scope { get; set; }

    public List<LLamaToken> Tokens { get; } = [];

    public long LastUsed { get; set; }
}

/// <summary>
/// Continuous batching over one llama.cpp context: a dedicated thread owns the context and, at every step,
/// decodes the next token of every running generation plus prompt chunks of new ones in a single llama_batch,
/// then samples each generation from its own row of logits. Up to <c>maxParallel</c> requests run at once, each
/// in its own KV sequence; the rest wait in FIFO order. With <c>maxParallel</c> = 1 this is a per-model queue.
/// With prompt caching, a finished request's sequence keeps its tokens' KV: the next request of the same scope (the
/// same API key) whose prompt starts with them is given that sequence and decodes only what differs, as llama-server's
/// cache_prompt does per slot. Scopes never share: a prefix one key left cannot speed up, and so reveal itself to,
/// another key's request.
/// </summary>
internal sealed class DecodeLoop : IDisposable
{
    private readonly SafeLLamaContextHandle _ctx;
    private readonly int _maxParallel;
    private readonly int _sequenceLength;
    private readonly int _batchSize;
    private readonly bool _promptCache;
    private readonly Queue<GenerationJob> _waiting = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Thread _thread;
    private readonly Lock _gate = new();

    /// <summary>The running jobs in sequence order, as each step lays them out (the loop thread's alone).</summary>
    private readonly List<GenerationJob> _bySequence = [];
    private bool _disposed;
    private long _uses;

    public DecodeLoop(SafeLLamaContextHandle ctx, int maxParallel, int sequenceLength, int batchSize, string name, bool promptCache = true)
    {
        _ctx = ctx;
        _maxParallel = maxParallel;
        _sequenceLength = sequenceLength;
        _batchSize = batchSize;
        _promptCache = promptCache;
        _thread = new Thread(Run) { IsBackground = true, Name = "sios-decode " + name };
        _thread.Start();
    }

    /// <summary>Queues <paramref name="job"/>; its updates arrive on <see cref="GenerationJob.Updates"/>.</summary>
    public void Submit(GenerationJob job)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _waiting.Enqueue(job);
        }

        _wake.Release();
    }

    /// <summary>Nudges the loop so a cancelled job is dropped without waiting for the next step.</summary>
    public void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (ObjectDisposedException)
        {
            // The loop is gone; there is nothing left to wake.
        }
    }

    /// <summary>Stops the loop after the current step; unfinished jobs end with <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        _shutdown.Cancel();
        _thread.Join();
        _shutdown.Dispose();
        _wake.Dispose();
    }

    private void Run()
    {
        var active = new List<GenerationJob>(_maxParallel);
        var free = Enumerable.Range(0, _maxParallel).Select(i => new SequenceSlot(i)).ToList();
        var batch = new LLamaBatch();
        try
        {
            while (!_shutdown.IsCancellationRequested)
            {
                Retire(active, free, j => j.IsCancelled, null);
                Admit(active, free);
                if (active.Count == 0)
                {
                    _wake.Wait(_shutdown.Token);
                    continue;
                }

                Step(active, batch);
                Retire(active, free, j => j.Done, null);
            }
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
            // Shutting down: fall through and fail what is left.
        }
        catch (Exception e)
        {
            Retire(active, free, _ => true, new InferenceException("The decode loop failed: " + e.Message, e));
            FailWaiting(new InferenceException("The decode loop failed: " + e.Message, e));
            return;
        }

        var gone = new ObjectDisposedException(nameof(LlamaEngine), "The engine was disposed before the request finished.");
        Retire(active, free, _ => true, gone);
        FailWaiting(gone);
    }

    private void Admit(List<GenerationJob> active, List<SequenceSlot> free)
    {
        lock (_gate)
        {
            while (active.Count < _maxParallel && _waiting.TryDequeue(out var job))
            {
                if (job.IsCancelled)
                {
                    job.Sampler.Dispose();
                    job.Updates.Writer.TryComplete(new OperationCanceledException());
                    continue;
                }

                var (slot, prefix) = Choose(free, job);
                free.Remove(slot);
                Reuse(slot, job, prefix);
                active.Add(job);
                var at = _bySequence.FindIndex(j => (int)j.Sequence > (int)job.Sequence);
                _bySequence.Insert(at < 0 ? _bySequence.Count : at, job);
            }
        }
    }

    /// <summary>
    /// The free sequence holding the longest prefix of the job's prompt in its scope (with that prefix's length), else
    /// an empty one, else the least recently used (with 0).
    /// </summary>
    private (SequenceSlot Slot, int Prefix) Choose(List<SequenceSlot> free, GenerationJob job)
    {
        SequenceSlot? best = null;
        var bestLength = 0;
        if (_promptCache && job.CacheScope is { } scope)
        {
            foreach (var slot in free)
            {
                if (string.Equals(slot.Scope, scope, StringComparison.Ordinal) && CommonPrefix(slot.Tokens, job.Prompt) is var length && length > bestLength)
                {
                    (best, bestLength) = (slot, length);
                }
            }
        }

        // Among empty ones the lowest-numbered, so running sequences stay contiguous (see Step).
        return best is not null
            ? (best, bestLength)
            : (free.Where(s => s.Tokens.Count == 0).MinBy(s => (int)s.Sequence) ?? free.MinBy(s => s.LastUsed)!, 0);
    }

    /// <summary>
    /// Gives <paramref name="slot"/> to <paramref name="job"/>, keeping the KV of the first <paramref name="prefix"/>
    /// prompt tokens it already holds for the job's scope and dropping the rest.
    /// </summary>
    private void Reuse(SequenceSlot slot, GenerationJob job, int prefix)
    {
        // At least the prompt's last token is decoded again: its logits give the first token of the answer.
        var keep = Math.Min(prefix, job.Prompt.Length - 1);

        if (keep < slot.Tokens.Count)
        {
            _ctx.MemorySequenceRemove(slot.Sequence, keep, -1);
            // A cache that cannot cut a sequence short (not one of llama's) keeps it whole: then nothing is reused.
            if ((int)_ctx.MemorySequenceMaxPosition(slot.Sequence) >= keep)
            {
                _ctx.MemorySequenceRemove(slot.Sequence, -1, -1);
                keep = 0;
            }
        }

        slot.Tokens.Clear();
        slot.Scope = null;
        job.Slot = slot;
        job.Sequence = slot.Sequence;
        job.Cached = keep;
        job.Prefilled = keep;
        job.Position = keep;
    }

    private static int CommonPrefix(List<LLamaToken> cached, LLamaToken[] prompt)
    {
        var n = Math.Min(cached.Count, prompt.Length);
        var i = 0;
        while (i < n && cached[i] == prompt[i])
        {
            i++;
        }

        return i;
    }

    private void Step(List<GenerationJob> active, LLamaBatch batch)
    {
        batch.Clear();

        // Prompt chunks are handed out first come, first served, after one token for every running generation...
        var budget = _batchSize;
        foreach (var job in active)
        {
            budget -= job.Prefilled == job.Prompt.Length ? 1 : 0;
        }

        foreach (var job in active)
        {
            job.Chunk = job.Prefilled < job.Prompt.Length ? Math.Min(budget, job.Prompt.Length - job.Prefilled) : 0;
            budget -= job.Chunk;
        }

        // ...and laid out in sequence order: with a KV cache per sequence, llama.cpp puts sequences in one micro-batch
        // only while their ids come in order, each the last plus one (llama_batch_allocr::split_equal), and otherwise
        // computes them pass by pass (measured: a third of the throughput lost at four streams in reverse order).
        foreach (var job in _bySequence)
        {
            if (job.Prefilled == job.Prompt.Length)
            {
                job.LogitIndex = batch.Add(job.Next, job.Position, job.Sequence, true);
                job.Fed.Add(job.Next);
                job.Position++;
                continue;
            }

            job.LogitIndex = -1;
            for (var i = 0; i < job.Chunk; i++)
            {
                var last = job.Prefilled + i == job.Prompt.Length - 1;
                var index = batch.Add(job.Prompt[job.Prefilled + i], job.Position + i, job.Sequence, last);
                if (last)
                {
                    job.LogitIndex = index;
                }
            }

            job.Prefilled += job.Chunk;
            job.Position += job.Chunk;
        }

        var result = _ctx.Decode(batch);
        if (result != DecodeResult.Ok)
        {
            var error = new InferenceException($"llama.cpp could not decode the batch ({result}); the request was dropped.");
            foreach (var job in active)
            {
                job.KvLost = true;
                job.Complete(error);
            }

            return;
        }

        foreach (var job in active)
        {
            if (job.LogitIndex >= 0)
            {
                Advance(job);
            }
        }
    }

    private void Advance(GenerationJob job)
    {
        LLamaToken token;
        try
        {
            token = job.Sampler.Sample(_ctx, job.LogitIndex);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            job.Complete(new InferenceException("Sampling failed: " + e.Message, e));
            return;
        }

        var vocab = _ctx.ModelHandle.Vocab;
        if (token.IsEndOfGeneration(vocab))
        {
            Finish(job, FinishReason.Stop);
            return;
        }

        job.Completion++;
        var special = job.Visible is { } visible && visible.Contains((int)token);
        Span<byte> piece = stackalloc byte[256];
        var length = (int)_ctx.ModelHandle.TokenToSpan(token, piece, 0, special);
        if (length > piece.Length)
        {
            piece = new byte[length];
            length = (int)_ctx.ModelHandle.TokenToSpan(token, piece, 0, special);
        }

        if (job.Lazy is { Watching: true } lazy)
        {
            try
            {
                if (lazy.Observe(token, piece[..length]) is { } constrained)
                {
                    job.Sampler.Dispose();
                    job.Sampler = constrained;
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                job.Complete(new InferenceException("The tool-call grammar could not engage: " + e.Message, e));
                return;
            }
        }

        var text = job.Text.Push(piece[..length]);
        if (text.Length > 0)
        {
            // The running usage rides on every piece, so a stream the client abandons is still charged what it cost.
            job.Updates.Writer.TryWrite(new GenerationUpdate(text, null, new Usage(job.Prompt.Length, job.Completion, job.Cached)));
        }

        if (job.Text.Stopped)
        {
            Finish(job, FinishReason.Stop);
        }
        else if (job.Completion >= job.MaxTokens || job.Position >= _sequenceLength)
        {
            Finish(job, FinishReason.Length);
        }
        else
        {
            job.Next = token;
        }
    }

    private static void Finish(GenerationJob job, FinishReason reason)
    {
        var rest = job.Text.Flush();
        if (rest.Length > 0)
        {
            job.Updates.Writer.TryWrite(new GenerationUpdate(rest));
        }

        job.Updates.Writer.TryWrite(new GenerationUpdate(string.Empty, reason, new Usage(job.Prompt.Length, job.Completion, job.Cached)));
        job.Complete(null);
    }

    private void Retire(List<GenerationJob> active, List<SequenceSlot> free, Func<GenerationJob, bool> done, Exception? error)
    {
        for (var i = active.Count - 1; i >= 0; i--)
        {
            var job = active[i];
            if (!done(job))
            {
                continue;
            }

            job.Complete(error ?? (job.IsCancelled ? new OperationCanceledException() : null));
            var slot = job.Slot!;
            if (_promptCache && job.CacheScope is { } scope && error is null && !job.KvLost)
            {
                // What the sequence holds now: the prompt as far as it was decoded, then every token fed back.
                slot.Scope = scope;
                slot.Tokens.AddRange(job.Prompt.AsSpan(0, job.Prefilled));
                slot.Tokens.AddRange(job.Fed);
                slot.LastUsed = ++_uses;
            }
            else
            {
                _ctx.MemorySequenceRemove(job.Sequence, -1, -1);
            }

            job.Sampler.Dispose();
            free.Add(slot);
            active.RemoveAt(i);
            _bySequence.Remove(job);
        }
    }

    private void FailWaiting(Exception error)
    {
        lock (_gate)
        {
            while (_waiting.TryDequeue(out var job))
            {
                job.Sampler.Dispose();
                job.Updates.Writer.TryComplete(error);
            }
        }
    }
}
