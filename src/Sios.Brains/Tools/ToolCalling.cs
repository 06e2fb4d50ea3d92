using System.Runtime.CompilerServices;
using Sios.Brains.Engines;

namespace Sios.Brains.Tools;

/// <summary>
/// Tool calling for one request to a local brain: which tools the grammar admits, whether the answer must be calls from
/// its first token (<c>required</c> or a named tool) or may become calls at the marker (<c>auto</c>), and the split of
/// the generated text into text and calls.
/// </summary>
internal sealed class ToolCalling
{
    private ToolCalling(ToolCallFormat format, IReadOnlyList<ToolDefinition> tools, string grammar, bool callsOnly)
    {
        Format = format;
        Tools = tools;
        Grammar = grammar;
        CallsOnly = callsOnly;
    }

    /// <summary>How the brain writes calls.</summary>
    public ToolCallFormat Format { get; }

    /// <summary>The tools the answer may call.</summary>
    public IReadOnlyList<ToolDefinition> Tools { get; }

    /// <summary>The GBNF of an answer of calls.</summary>
    public string Grammar { get; }

    /// <summary>Whether the answer is calls only, constrained from its first token.</summary>
    public bool CallsOnly { get; }

    /// <summary>Tool calling for <paramref name="request"/>, or null when it offers no tools, forbids calls, or the brain has no template.</summary>
    /// <exception cref="ArgumentException">A tool's parameters schema is refused.</exception>
    public static ToolCalling? For(ChatRequest request, ToolCallFormat? format)
    {
        if (format is null || request.Tools.Count == 0 || request.ToolMode is ToolMode.NoneMode)
        {
            return null;
        }

        IReadOnlyList<ToolDefinition> tools = request.ToolMode is ToolMode.NamedMode named
            ? [.. request.Tools.Where(t => t.Name == named.Name)]
            : request.Tools;
        var parallel = request.ParallelToolCalls && request.ToolMode is not ToolMode.NamedMode;
        return new ToolCalling(format, tools, format.Grammar(tools, parallel), request.ToolMode is ToolMode.RequiredMode or ToolMode.NamedMode);
    }

    /// <summary>
    /// <paramref name="updates"/> with the calls taken out of the text: text flows on as it is generated (empty updates
    /// still carry the running usage), so do the pieces of calls that can be shown as they come, and the calls, one
    /// update each, come before the final update, whose finish reason is <see cref="FinishReason.ToolCalls"/> when
    /// there are any (unless the last was cut off by the length limit, as OpenAI answers then).
    /// </summary>
    public async IAsyncEnumerable<GenerationUpdate> Split(IAsyncEnumerable<GenerationUpdate> updates, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var stream = new ToolCallSplitter(Format, Tools, CallsOnly);
        await foreach (var update in updates.WithCancellation(ct).ConfigureAwait(false))
        {
            var shown = stream.Push(update.Text);
            if (!update.IsFinal)
            {
                yield return update with { Text = shown };
                foreach (var delta in stream.TakeCallDeltas())
                {
                    yield return new GenerationUpdate(string.Empty, null, update.Usage, CallDelta: delta);
                }

                continue;
            }

            foreach (var delta in stream.TakeCallDeltas())
            {
                yield return new GenerationUpdate(string.Empty, null, update.Usage, CallDelta: delta);
            }

            var (rest, calls) = stream.Finish();
            if (shown.Length + rest.Length > 0)
            {
                yield return new GenerationUpdate(shown + rest, null, update.Usage);
            }

            foreach (var call in calls)
            {
                yield return new GenerationUpdate(string.Empty, null, update.Usage, call);
            }

            yield return update with { Text = string.Empty, FinishReason = calls.Count > 0 && !stream.CallCutOff ? FinishReason.ToolCalls : update.FinishReason };
            yield break;
        }
    }
}
