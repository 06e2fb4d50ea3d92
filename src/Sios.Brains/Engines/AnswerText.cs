using System.Text;

namespace Sios.Brains.Engines;

/// <summary>
/// Turns a generation's token bytes into streamable text: decodes UTF-8 across token boundaries and holds back
/// any tail that could still grow into a stop sequence, so a stop sequence is never emitted, even in part.
/// </summary>
internal sealed class AnswerText
{
    private readonly Decoder _utf8 = new UTF8Encoding(false, false).GetDecoder();
    private readonly string[] _stops;
    private readonly StringBuilder _held = new();
    private char[] _chars = new char[64];

    /// <summary>Watches for <paramref name="stops"/> (none is fine).</summary>
    public AnswerText(IReadOnlyList<string> stops) => _stops = [.. stops];

    /// <summary>Whether a stop sequence has been completed; nothing more is emitted after it.</summary>
    public bool Stopped { get; private set; }

    /// <summary>Adds one token's bytes and returns the text that is now safe to emit (often empty).</summary>
    public string Push(ReadOnlySpan<byte> bytes)
    {
        if (Stopped)
        {
            return string.Empty;
        }

        var needed = _utf8.GetCharCount(bytes, flush: false);
        if (needed > _chars.Length)
        {
            _chars = new char[Math.Max(needed, _chars.Length * 2)];
        }

        var n = _utf8.GetChars(bytes, _chars, flush: false);
        _held.Append(_chars, 0, n);
        return Release();
    }

    /// <summary>Ends the text (no stop seen): returns everything still held, with any cut UTF-8 as U+FFFD.</summary>
    public string Flush()
    {
        if (Stopped)
        {
            return string.Empty;
        }

        var n = _utf8.GetChars([], _chars, flush: true);
        _held.Append(_chars, 0, n);
        var rest = _held.ToString();
        _held.Clear();
        return rest;
    }

    private string Release()
    {
        if (_held.Length == 0)
        {
            return string.Empty;
        }

        var text = _held.ToString();
        var first = -1;
        foreach (var stop in _stops)
        {
            var at = text.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (first < 0 || at < first))
            {
                first = at;
            }
        }

        if (first >= 0)
        {
            Stopped = true;
            _held.Clear();
            return text[..first];
        }

        var hold = 0;
        foreach (var stop in _stops)
        {
            for (var k = Math.Min(stop.Length - 1, text.Length); k > hold; k--)
            {
                if (text.AsSpan(text.Length - k).SequenceEqual(stop.AsSpan(0, k)))
                {
                    hold = k;
                    break;
                }
            }
        }

        _held.Clear();
        _held.Append(text, text.Length - hold, hold);
        return text[..^hold];
    }
}
