using System.Globalization;
using System.Text;

namespace Sios.Verify.Notes;

/// <summary>Validation rules shared by note text, key names and checkpoint origins (c2sp.org/signed-note).</summary>
public static class NoteText
{
    /// <summary>Strict UTF-8: invalid sequences are an error, never replaced.</summary>
    public static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>True if <paramref name="name"/> is a valid key name: non-empty, no Unicode space, no '+', no control character.</summary>
    public static bool IsValidKeyName(string name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return false;
        }

        foreach (var rune in name.EnumerateRunes())
        {
            if (rune.Value == '+' || Rune.IsWhiteSpace(rune) || Rune.IsControl(rune)
                || Rune.GetUnicodeCategory(rune) == UnicodeCategory.SpaceSeparator)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Throws unless <paramref name="name"/> is a valid key name (used for origins too).</summary>
    public static void RequireValidKeyName(string name, string what)
    {
        if (!IsValidKeyName(name))
        {
            throw new FormatViolationException($"{what} '{name}' is not a valid key name: it must be non-empty and contain no spaces, '+' or control characters");
        }
    }

    /// <summary>Decodes strict UTF-8 and rejects control characters other than newline.</summary>
    public static string DecodeNote(ReadOnlySpan<byte> bytes, string what)
    {
        foreach (var b in bytes)
        {
            if (b < 0x20 && b != 0x0a)
            {
                throw new FormatViolationException($"{what} contains a control character (0x{b:x2}); only newline is allowed");
            }
        }

        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new FormatViolationException($"{what} is not valid UTF-8", e);
        }
    }

    /// <summary>Decodes standard padded base64 and rejects any non-canonical encoding.</summary>
    public static byte[] DecodeBase64(string text, string what)
    {
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(text);
        }
        catch (FormatException e)
        {
            throw new FormatViolationException($"{what} is not valid base64", e);
        }

        // Convert accepts embedded whitespace and non-zero padding bits; a canonical re-encoding must match exactly.
        if (!string.Equals(Convert.ToBase64String(bytes), text, StringComparison.Ordinal))
        {
            throw new FormatViolationException($"{what} is not canonical base64");
        }

        return bytes;
    }
}
