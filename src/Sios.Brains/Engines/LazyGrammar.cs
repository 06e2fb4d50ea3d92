using LLama.Native;
using LLama.Sampling;

namespace Sios.Brains.Engines;

/// <summary>
/// A grammar that engages only once the answer reaches a marker: tool calls in auto mode, where the model may answer
/// in text or call. It watches one generation's tokens; when the marker is complete it makes the constrained sampler
/// and replays the tokens since the marker into it, so the call that follows must be valid. The replay happens only
/// when its text is a prefix of what every call begins with, because a grammar fed text it refuses cannot recover.
/// </summary>
internal sealed class LazyGrammar(string marker, string callPrefix, bool atStartOnly, Func<ISamplingPipeline> create)
{
    /// <summary>Leading whitespace the tool grammars admit (<c>[ \t\n]{0,8}</c>).</summary>
    private const int MaxLeadingSpace = 8;

    private readonly byte[] _marker = System.Text.Encoding.UTF8.GetBytes(marker);
    private readonly byte[] _prefix = System.Text.Encoding.UTF8.GetBytes(callPrefix);
    private readonly List<LLamaToken> _tokens = [];
    private readonly List<int> _starts = [];
    private readonly List<byte> _raw = [];

    /// <summary>Whether it still waits for the marker (false once engaged, or once the marker can no longer come).</summary>
    public bool Watching { get; private set; } = true;

    /// <summary>Whether the grammar engaged.</summary>
    public bool Engaged { get; private set; }

    /// <summary>
    /// Records a generated token and its text; returns the constrained sampler to use from the next token on when the
    /// marker was just completed, else null.
    /// </summary>
    public ISamplingPipeline? Observe(LLamaToken token, ReadOnlySpan<byte> piece)
    {
        if (!Watching)
        {
            return null;
        }

        _tokens.Add(token);
        _starts.Add(_raw.Count);
        _raw.AddRange(piece);
        var raw = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_raw);
        int from, textStart;
        if (atStartOnly)
        {
            var space = 0;
            while (space < raw.Length && raw[space] is (byte)' ' or (byte)'\t' or (byte)'\n')
            {
                space++;
            }

            var rest = raw[space..];
            if (space > MaxLeadingSpace || !(rest.Length < _marker.Length ? _marker.AsSpan().StartsWith(rest) : rest.StartsWith(_marker)))
            {
                Watching = false;
                return null;
            }

            if (rest.Length < _marker.Length)
            {
                return null;
            }

            (from, textStart) = (0, space);
        }
        else
        {
            var at = raw[Math.Max(0, raw.Length - piece.Length - _marker.Length + 1)..].IndexOf(_marker);
            if (at < 0)
            {
                return null;
            }

            at += Math.Max(0, raw.Length - piece.Length - _marker.Length + 1);
            from = _starts.IndexOf(at);
            textStart = at;
            if (from < 0)
            {
                // The marker began inside a token: its text cannot be replayed exactly, so the answer stays free.
                Watching = false;
                return null;
            }
        }

        Watching = false;
        if (!_prefix.AsSpan().StartsWith(raw[textStart..]))
        {
            return null;
        }

        var sampler = create();
        try
        {
            for (var i = from; i < _tokens.Count; i++)
            {
                sampler.Accept(_tokens[i]);
            }
        }
        catch
        {
            sampler.Dispose();
            throw;
        }

        Engaged = true;
        return sampler;
    }
}
