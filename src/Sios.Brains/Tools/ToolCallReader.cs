using System.Text;
using Sios.Brains.Engines;

namespace Sios.Brains.Tools;

/// <summary>
/// Reads calls out of an answer as it is generated, in the exact shape the family's grammar writes them, so a stream
/// can show each call's id and name as soon as its name is complete and its arguments piece by piece, as OpenAI streams
/// them. A call is shown only once its name is an offered tool and its arguments have begun; text that leaves the
/// shape stops the reading (an unconstrained answer may), and what was shown stands.
/// </summary>
internal sealed class ToolCallReader
{
    private readonly ToolCallFormat _format;
    private readonly IReadOnlyList<ToolDefinition> _tools;
    private readonly int _longestName;
    private readonly StringBuilder _buffer = new();
    private readonly StringBuilder _arguments = new();
    private readonly StringBuilder _fragment = new();
    private readonly List<FunctionCallContent> _calls = [];
    private State _state = State.Open;
    private string? _name;
    private string? _id;
    private int _depth;
    private bool _inString;
    private bool _escaped;

    public ToolCallReader(ToolCallFormat format, IReadOnlyList<ToolDefinition> tools)
    {
        _format = format;
        _tools = tools;
        _longestName = tools.Count == 0 ? 0 : tools.Max(t => t.Name.Length);
    }

    private enum State
    {
        Open,
        Name,
        BeforeArguments,
        Arguments,
        AfterArguments,
        Stopped,
    }

    /// <summary>Whether any call has been shown: from then on the answer's calls are this reader's.</summary>
    public bool Shown => _calls.Count > 0 || (_name is not null && _state == State.Arguments);

    /// <summary>
    /// Takes the next text of the calls (from the marker on) and returns what can be shown of them now: a head (index,
    /// id, name, empty arguments) when a call begins, then fragments of its arguments.
    /// </summary>
    public IReadOnlyList<FunctionCallDelta> Push(string text)
    {
        var deltas = new List<FunctionCallDelta>();
        foreach (var c in text)
        {
            if (_state == State.Stopped)
            {
                break;
            }

            Read(c, deltas);
        }

        if (_state == State.Arguments && _arguments.Length > 0 && _fragment.Length > 0)
        {
            deltas.Add(new FunctionCallDelta(_calls.Count, null, null, _fragment.ToString()));
        }

        _fragment.Clear();
        return deltas;
    }

    /// <summary>Whether the last call was cut off by the end of the answer, its arguments unfinished.</summary>
    public bool CutOff { get; private set; }

    /// <summary>The calls shown, in order; one cut off by the end of the answer keeps the arguments it had.</summary>
    public IReadOnlyList<FunctionCallContent> Calls()
    {
        if (_state == State.Arguments && _name is not null)
        {
            _calls.Add(new FunctionCallContent(_id!, _name, _arguments.ToString()));
            _state = State.Stopped;
            CutOff = true;
        }

        return _calls;
    }

    private void Read(char c, List<FunctionCallDelta> deltas)
    {
        switch (_state)
        {
            case State.Open:
                if (_calls.Count == 0 && _buffer.Length == 0 && char.IsWhiteSpace(c))
                {
                    return;
                }

                _buffer.Append(c);
                var open = _format.CallPrefix;
                if (_buffer.Length == open.Length)
                {
                    _state = _buffer.ToString() == open ? State.Name : State.Stopped;
                    _buffer.Clear();
                }
                else if (open[_buffer.Length - 1] != c)
                {
                    _state = State.Stopped;
                }

                return;
            case State.Name:
                _buffer.Append(c);
                var end = _format.NameEnd;
                if (_buffer.Length >= end.Length && _buffer.ToString(_buffer.Length - end.Length, end.Length) == end)
                {
                    var name = _buffer.ToString(0, _buffer.Length - end.Length);
                    _buffer.Clear();
                    (_name, _id) = _format.SplitCallId(name);
                    _state = _tools.Any(t => t.Name == _name) ? State.BeforeArguments : State.Stopped;
                }
                else if (_buffer.Length > _longestName + end.Length + 64)
                {
                    _state = State.Stopped;
                }

                return;
            case State.BeforeArguments:
                if (char.IsWhiteSpace(c))
                {
                    return;
                }

                if (c != '{')
                {
                    _state = State.Stopped;
                    return;
                }

                _id ??= _format.NewCallId();
                deltas.Add(new FunctionCallDelta(_calls.Count, _id, _name, string.Empty));
                _state = State.Arguments;
                (_depth, _inString, _escaped) = (0, false, false);
                Argument(c);
                return;
            case State.Arguments:
                Argument(c);
                if (_depth == 0)
                {
                    deltas.Add(new FunctionCallDelta(_calls.Count, null, null, _fragment.ToString()));
                    _fragment.Clear();
                    _calls.Add(new FunctionCallContent(_id!, _name!, _arguments.ToString()));
                    _arguments.Clear();
                    (_name, _id) = (null, null);
                    _state = _format.NextCall is null ? State.Stopped : State.AfterArguments;
                }

                return;
            case State.AfterArguments:
                _buffer.Append(c);
                var next = _format.NextCall!;
                if (_buffer.Length >= next.Length && _buffer.ToString(_buffer.Length - next.Length, next.Length) == next)
                {
                    _buffer.Clear();
                    _state = State.Name;
                }

                return;
        }
    }

    /// <summary>One character of the arguments object: strings and escapes are followed so braces in them do not count.</summary>
    private void Argument(char c)
    {
        _arguments.Append(c);
        _fragment.Append(c);
        if (_inString)
        {
            if (_escaped)
            {
                _escaped = false;
            }
            else if (c == '\\')
            {
                _escaped = true;
            }
            else if (c == '"')
            {
                _inString = false;
            }

            return;
        }

        switch (c)
        {
            case '"':
                _inString = true;
                break;
            case '{' or '[':
                _depth++;
                break;
            case '}' or ']':
                _depth--;
                break;
        }
    }
}
