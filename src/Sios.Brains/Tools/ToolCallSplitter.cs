using System.Text;
using Sios.Brains.Engines;

namespace Sios.Brains.Tools;

/// <summary>
/// Splits a generated answer into the text a client sees and the calls it holds, as it streams: text before the
/// family's marker flows on (holding back only what could be the start of the marker), and everything from the marker
/// on is read as calls: as they are generated, when they have the shape the family's grammar writes (so a stream shows
/// them piece by piece), else when the answer ends. Calls that do not parse are given back as text, never lost.
/// </summary>
public sealed class ToolCallSplitter
{
    /// <summary>Leading whitespace a start-only call may follow (the grammars' <c>[ \t\n]{0,8}</c>).</summary>
    private const int LeadingSpace = 8;

    private readonly ToolCallFormat _format;
    private readonly IReadOnlyList<ToolDefinition> _tools;
    private readonly StringBuilder _pending = new();
    private readonly StringBuilder _calls = new();
    private readonly ToolCallReader _reader;
    private readonly List<FunctionCallDelta> _deltas = [];
    private bool _inCalls;
    private bool _plain;

    /// <summary>A stream over an answer to a request offering <paramref name="tools"/>.</summary>
    /// <param name="format">How the brain writes calls.</param>
    /// <param name="tools">The offered tools; calls of any other name are not calls.</param>
    /// <param name="callsOnly">The answer is constrained to calls from its first token (tool_choice required or named).</param>
    public ToolCallSplitter(ToolCallFormat format, IReadOnlyList<ToolDefinition> tools, bool callsOnly)
    {
        ArgumentNullException.ThrowIfNull(format);
        ArgumentNullException.ThrowIfNull(tools);
        _format = format;
        _tools = tools;
        _inCalls = callsOnly;
        _reader = new ToolCallReader(format, tools);
    }

    /// <summary>Takes the next generated text; returns the part that can be shown now (possibly empty).</summary>
    public string Push(string delta)
    {
        ArgumentNullException.ThrowIfNull(delta);
        if (_inCalls)
        {
            AppendCalls(delta);
            return string.Empty;
        }

        if (_plain)
        {
            return delta;
        }

        _pending.Append(delta);
        var text = _pending.ToString();
        var marker = _format.Marker;
        if (_format.AtStartOnly)
        {
            var start = text.TrimStart();

            // No more leading space than the call grammar admits: an answer of blanks is not held back without end.
            if (start.Length < marker.Length && marker.StartsWith(start, StringComparison.Ordinal) && text.Length - start.Length <= LeadingSpace)
            {
                return string.Empty;
            }

            if (start.StartsWith(marker, StringComparison.Ordinal))
            {
                _inCalls = true;
                AppendCalls(start);
                _pending.Clear();
                return string.Empty;
            }

            _plain = true;
            _pending.Clear();
            return text;
        }

        var at = text.IndexOf(marker, StringComparison.Ordinal);
        if (at >= 0)
        {
            _inCalls = true;
            AppendCalls(text[at..]);
            _pending.Clear();
            return text[..at];
        }

        var held = HeldBack(text, marker);
        _pending.Clear().Append(text, text.Length - held, held);
        return text[..^held];
    }

    /// <summary>Whether the answer ended inside a call that was being shown (its arguments unfinished).</summary>
    public bool CallCutOff => _reader.CutOff;

    /// <summary>What can be shown of the calls since the last time asked: heads and argument fragments, in order.</summary>
    public IReadOnlyList<FunctionCallDelta> TakeCallDeltas()
    {
        if (_deltas.Count == 0)
        {
            return [];
        }

        FunctionCallDelta[] taken = [.. _deltas];
        _deltas.Clear();
        return taken;
    }

    /// <summary>
    /// The text not yet shown and the calls of the answer, once it has ended: the calls shown as they came (one cut off
    /// by the end of the answer keeps the arguments it had), or else those of the whole text from the marker on.
    /// </summary>
    public (string Text, IReadOnlyList<FunctionCallContent> Calls) Finish()
    {
        var rest = _pending.ToString();
        _pending.Clear();
        if (!_inCalls)
        {
            return (rest, []);
        }

        if (_reader.Shown)
        {
            return (rest, _reader.Calls());
        }

        var calls = _calls.ToString();
        return _format.Parse(calls, _tools) is { } parsed ? (rest, parsed) : (rest + calls, []);
    }

    private void AppendCalls(string text)
    {
        _calls.Append(text);
        _deltas.AddRange(_reader.Push(text));
    }

    /// <summary>How many characters at the end of <paramref name="text"/> could begin <paramref name="marker"/>.</summary>
    private static int HeldBack(string text, string marker)
    {
        for (var n = Math.Min(marker.Length - 1, text.Length); n > 0; n--)
        {
            if (text.AsSpan(text.Length - n).SequenceEqual(marker.AsSpan(0, n)))
            {
                return n;
            }
        }

        return 0;
    }
}
