using System.Globalization;
using System.Text;

namespace Sios.Templates;

/// <summary>
/// String operations with JavaScript's semantics, which the reference inherits: its whitespace set (not .NET's),
/// full case mapping with SpecialCasing (ß → SS) and final sigma, and ASCII-only word characters.
/// </summary>
internal static class JsText
{
    // Characters whose toUpperCase is several code points: the first character of each entry maps to the rest.
    private const string SpecialUpper =
        "\u00DFSS|\u0149\u02BCN|\u01F0J\u030C|\u0390\u0399\u0308\u0301|\u03B0\u03A5\u0308\u0301|\u0587\u0535\u0552|" +
        "\u1E96H\u0331|\u1E97T\u0308|\u1E98W\u030A|\u1E99Y\u030A|\u1E9AA\u02BE|\u1F50\u03A5\u0313|" +
        "\u1F52\u03A5\u0313\u0300|\u1F54\u03A5\u0313\u0301|\u1F56\u03A5\u0313\u0342|\u1F80\u1F08\u0399|\u1F81\u1F09\u0399|\u1F82\u1F0A\u0399|" +
        "\u1F83\u1F0B\u0399|\u1F84\u1F0C\u0399|\u1F85\u1F0D\u0399|\u1F86\u1F0E\u0399|\u1F87\u1F0F\u0399|\u1F88\u1F08\u0399|" +
        "\u1F89\u1F09\u0399|\u1F8A\u1F0A\u0399|\u1F8B\u1F0B\u0399|\u1F8C\u1F0C\u0399|\u1F8D\u1F0D\u0399|\u1F8E\u1F0E\u0399|" +
        "\u1F8F\u1F0F\u0399|\u1F90\u1F28\u0399|\u1F91\u1F29\u0399|\u1F92\u1F2A\u0399|\u1F93\u1F2B\u0399|\u1F94\u1F2C\u0399|" +
        "\u1F95\u1F2D\u0399|\u1F96\u1F2E\u0399|\u1F97\u1F2F\u0399|\u1F98\u1F28\u0399|\u1F99\u1F29\u0399|\u1F9A\u1F2A\u0399|" +
        "\u1F9B\u1F2B\u0399|\u1F9C\u1F2C\u0399|\u1F9D\u1F2D\u0399|\u1F9E\u1F2E\u0399|\u1F9F\u1F2F\u0399|\u1FA0\u1F68\u0399|" +
        "\u1FA1\u1F69\u0399|\u1FA2\u1F6A\u0399|\u1FA3\u1F6B\u0399|\u1FA4\u1F6C\u0399|\u1FA5\u1F6D\u0399|\u1FA6\u1F6E\u0399|" +
        "\u1FA7\u1F6F\u0399|\u1FA8\u1F68\u0399|\u1FA9\u1F69\u0399|\u1FAA\u1F6A\u0399|\u1FAB\u1F6B\u0399|\u1FAC\u1F6C\u0399|" +
        "\u1FAD\u1F6D\u0399|\u1FAE\u1F6E\u0399|\u1FAF\u1F6F\u0399|\u1FB2\u1FBA\u0399|\u1FB3\u0391\u0399|\u1FB4\u0386\u0399|" +
        "\u1FB6\u0391\u0342|\u1FB7\u0391\u0342\u0399|\u1FBC\u0391\u0399|\u1FC2\u1FCA\u0399|\u1FC3\u0397\u0399|\u1FC4\u0389\u0399|" +
        "\u1FC6\u0397\u0342|\u1FC7\u0397\u0342\u0399|\u1FCC\u0397\u0399|\u1FD2\u0399\u0308\u0300|\u1FD3\u0399\u0308\u0301|\u1FD6\u0399\u0342|" +
        "\u1FD7\u0399\u0308\u0342|\u1FE2\u03A5\u0308\u0300|\u1FE3\u03A5\u0308\u0301|\u1FE4\u03A1\u0313|\u1FE6\u03A5\u0342|\u1FE7\u03A5\u0308\u0342|" +
        "\u1FF2\u1FFA\u0399|\u1FF3\u03A9\u0399|\u1FF4\u038F\u0399|\u1FF6\u03A9\u0342|\u1FF7\u03A9\u0342\u0399|\u1FFC\u03A9\u0399|" +
        "\uFB00FF|\uFB01FI|\uFB02FL|\uFB03FFI|\uFB04FFL|\uFB05ST|" +
        "\uFB06ST|\uFB13\u0544\u0546|\uFB14\u0544\u0535|\uFB15\u0544\u053B|\uFB16\u054E\u0546|\uFB17\u0544\u053D";

    private static readonly Dictionary<char, string> UpperSpecial = SpecialUpper.Split('|').ToDictionary(e => e[0], e => e[1..]);

    /// <summary>JavaScript's WhiteSpace and LineTerminator (what /\s/ and String.prototype.trim use).</summary>
    public static bool IsWhitespace(char c) => c switch
    {
        '\t' or '\n' or '\v' or '\f' or '\r' or ' ' or '\u00A0' or '\u1680' or '\u2028' or '\u2029' or '\u202F'
            or '\u205F' or '\u3000' or '\uFEFF' => true,
        _ => c is >= '\u2000' and <= '\u200A',
    };

    /// <summary>/\w/: ASCII letters, digits and underscore only.</summary>
    public static bool IsWord(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';

    public static string Trim(string s) => TrimEnd(TrimStart(s));

    public static string TrimStart(string s)
    {
        var i = 0;
        while (i < s.Length && IsWhitespace(s[i]))
        {
            i++;
        }

        return s[i..];
    }

    public static string TrimEnd(string s)
    {
        var i = s.Length;
        while (i > 0 && IsWhitespace(s[i - 1]))
        {
            i--;
        }

        return s[..i];
    }

    public static string ToUpper(string s)
    {
        if (IsAscii(s))
        {
            return s.ToUpperInvariant();
        }

        var result = new StringBuilder(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            if (UpperSpecial.TryGetValue(s[i], out var special))
            {
                result.Append(special);
            }
            else if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                result.Append(s.AsSpan(i, 2).ToString().ToUpperInvariant());
                i++;
            }
            else
            {
                result.Append(char.ToUpperInvariant(s[i]));
            }
        }

        return result.ToString();
    }

    /// <summary>s == s.toLowerCase(), without making the lowered copy when s is ASCII.</summary>
    public static bool IsLower(string s) => IsAscii(s) ? !s.AsSpan().ContainsAnyInRange('A', 'Z') : s == ToLower(s);

    /// <summary>s == s.toUpperCase(), without making the upper-cased copy when s is ASCII.</summary>
    public static bool IsUpper(string s) => IsAscii(s) ? !s.AsSpan().ContainsAnyInRange('a', 'z') : s == ToUpper(s);

    public static string ToLower(string s)
    {
        if (IsAscii(s))
        {
            return s.ToLowerInvariant();
        }

        var result = new StringBuilder(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c == '\u0130')
            {
                result.Append("i\u0307");
            }
            else if (c == '\u03A3')
            {
                result.Append(IsFinalSigma(s, i) ? '\u03C2' : '\u03C3');
            }
            else if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                result.Append(s.AsSpan(i, 2).ToString().ToLowerInvariant());
                i++;
            }
            else
            {
                result.Append(char.ToLowerInvariant(c));
            }
        }

        return result.ToString();
    }

    /// <summary>The reference's title: /\b\w/ upper-cased, the rest left as it is (unlike Python's title).</summary>
    public static string Title(string s)
    {
        var chars = s.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (IsWord(chars[i]) && (i == 0 || !IsWord(chars[i - 1])))
            {
                chars[i] = char.ToUpperInvariant(chars[i]);
            }
        }

        return new string(chars);
    }

    /// <summary>charAt(0).toUpperCase() + slice(1): the first UTF-16 unit only, the rest unchanged.</summary>
    public static string Capitalize(string s) => s.Length == 0 ? s : ToUpper(s[..1]) + s[1..];

    /// <summary>Array.from(s): the string's code points (a surrogate pair stays together).</summary>
    public static List<string> CodePoints(string s)
    {
        var points = new List<string>(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            var pair = char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]);
            points.Add(s.Substring(i, pair ? 2 : 1));
            if (pair)
            {
                i++;
            }
        }

        return points;
    }

    /// <summary>Where each code point starts, and the string's length after the last.</summary>
    public static int[] CodePointStarts(string s)
    {
        var starts = new List<int>(s.Length + 1);
        for (var i = 0; i < s.Length; i++)
        {
            starts.Add(i);
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                i++;
            }
        }

        starts.Add(s.Length);
        return [.. starts];
    }

    private static bool IsAscii(string s) => !s.AsSpan().ContainsAnyExceptInRange('\0', '\u007F');

    // Final_Sigma: preceded by a cased letter and not followed by one, skipping case-ignorable characters.
    private static bool IsFinalSigma(string s, int at)
    {
        var before = at - 1;
        while (before >= 0 && IsCaseIgnorable(s[before]))
        {
            before--;
        }

        if (before < 0 || !IsCased(s[before]))
        {
            return false;
        }

        var after = at + 1;
        while (after < s.Length && IsCaseIgnorable(s[after]))
        {
            after++;
        }

        return after >= s.Length || !IsCased(s[after]);
    }

    private static bool IsCased(char c) =>
        CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter
            or UnicodeCategory.TitlecaseLetter;

    private static bool IsCaseIgnorable(char c) =>
        "'.:^`\u00B7\u2018\u2019\u2024\u2027".Contains(c)
        || CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark
            or UnicodeCategory.Format or UnicodeCategory.ModifierLetter or UnicodeCategory.ModifierSymbol;
}
