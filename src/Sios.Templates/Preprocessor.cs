namespace Sios.Templates;

/// <summary>
/// The reference's text passes before lexing: drop one trailing newline, lstrip_blocks, trim_blocks and removal of the
/// transformers-specific <c>{% generation %}</c> tags. Every pass only deletes characters, so each kept character
/// keeps its offset in the original source (for line:column in errors).
/// </summary>
internal static class Preprocessor
{
    public static (string Text, int[] Origin) Run(string source)
    {
        var text = new List<char>(source);
        var origin = Enumerable.Range(0, source.Length).ToList();
        if (text.Count > 0 && text[^1] == '\n')
        {
            text.RemoveAt(text.Count - 1);
            origin.RemoveAt(origin.Count - 1);
        }

        var keep = LstripBlocks(text);
        Compact(text, origin, keep);
        keep = TrimBlocks(text);
        Compact(text, origin, keep);
        keep = GenerationTags(text);
        Compact(text, origin, keep);
        return (new string(text.ToArray()), origin.ToArray());
    }

    // /^[ \t]*({[#%-])/gm: blanks from a line start up to "{#", "{%" or "{-". A JavaScript multiline ^ also
    // follows \r, U+2028 and U+2029.
    private static bool[] LstripBlocks(List<char> text)
    {
        var keep = Filled(text.Count);
        for (var start = 0; start < text.Count; start++)
        {
            if (start > 0 && !IsLineTerminator(text[start - 1]))
            {
                continue;
            }

            var end = start;
            while (end < text.Count && text[end] is ' ' or '\t')
            {
                end++;
            }

            if (end + 1 < text.Count && text[end] == '{' && text[end + 1] is '#' or '%' or '-')
            {
                Array.Fill(keep, false, start, end - start);
                start = end + 1;
            }
        }

        return keep;
    }

    // /([#%-]})\n/g: the newline right after "#}", "%}" or "-}".
    private static bool[] TrimBlocks(List<char> text)
    {
        var keep = Filled(text.Count);
        for (var i = 0; i + 2 < text.Count; i++)
        {
            if (text[i] is '#' or '%' or '-' && text[i + 1] == '}' && text[i + 2] == '\n')
            {
                keep[i + 2] = false;
                i += 2;
            }
        }

        return keep;
    }

    // /(\s*){%(-?)\s*(?:end)?generation\s*(-?)%}(\s*)/g: the tag goes; the whitespace around it stays unless the
    // tag's own '-' says to strip it.
    private static bool[] GenerationTags(List<char> text)
    {
        var keep = Filled(text.Count);
        var position = 0;
        while (position < text.Count)
        {
            var tag = SkipWhitespace(text, position);
            var match = MatchGenerationTag(text, tag);
            if (match is null)
            {
                position = tag + 1;
                continue;
            }

            var (stripBefore, stripAfter, tagEnd) = match.Value;
            var after = SkipWhitespace(text, tagEnd);
            Array.Fill(keep, false, tag, tagEnd - tag);
            if (stripBefore)
            {
                Array.Fill(keep, false, position, tag - position);
            }

            if (stripAfter)
            {
                Array.Fill(keep, false, tagEnd, after - tagEnd);
            }

            position = after;
        }

        return keep;
    }

    private static (bool StripBefore, bool StripAfter, int End)? MatchGenerationTag(List<char> text, int at)
    {
        if (!Has(text, at, "{%"))
        {
            return null;
        }

        var i = at + 2;
        var stripBefore = i < text.Count && text[i] == '-';
        i = SkipWhitespace(text, stripBefore ? i + 1 : i);
        if (Has(text, i, "end"))
        {
            i += 3;
        }

        if (!Has(text, i, "generation"))
        {
            return null;
        }

        i = SkipWhitespace(text, i + "generation".Length);
        var stripAfter = i < text.Count && text[i] == '-';
        if (stripAfter)
        {
            i++;
        }

        return Has(text, i, "%}") ? (stripBefore, stripAfter, i + 2) : null;
    }

    private static bool Has(List<char> text, int at, string literal)
    {
        if (at + literal.Length > text.Count)
        {
            return false;
        }

        for (var i = 0; i < literal.Length; i++)
        {
            if (text[at + i] != literal[i])
            {
                return false;
            }
        }

        return true;
    }

    private static int SkipWhitespace(List<char> text, int at)
    {
        while (at < text.Count && JsText.IsWhitespace(text[at]))
        {
            at++;
        }

        return at;
    }

    private static bool IsLineTerminator(char c) => c is '\n' or '\r' or '\u2028' or '\u2029';

    private static bool[] Filled(int count)
    {
        var keep = new bool[count];
        Array.Fill(keep, true);
        return keep;
    }

    private static void Compact(List<char> text, List<int> origin, bool[] keep)
    {
        var write = 0;
        for (var read = 0; read < text.Count; read++)
        {
            if (keep[read])
            {
                text[write] = text[read];
                origin[write] = origin[read];
                write++;
            }
        }

        text.RemoveRange(write, text.Count - write);
        origin.RemoveRange(write, origin.Count - write);
    }
}
