using System.Text.Json;

namespace Sios.Brains.Engines;

/// <summary>
/// JsonDocument accepts a <c>\u</c> escape of a lone UTF-16 surrogate and throws InvalidOperationException only when
/// that string or property name is decoded, deep in whatever reads it. Checking once up front lets a parser of
/// outside JSON refuse it as malformed input instead.
/// </summary>
public static class JsonEscapes
{
    /// <summary>
    /// The byte offset of the first string or property name in <paramref name="json"/> whose escapes do not decode,
    /// or null when all do. <paramref name="json"/> must already be known to be well-formed JSON.
    /// </summary>
    public static long? FirstUndecodableString(ReadOnlySpan<byte> json, int maxDepth)
    {
        // Only a \u escape can fail to decode, and most bodies have none: one vectorised search spares the second pass.
        if (json.IndexOf("\\u"u8) < 0)
        {
            return null;
        }

        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = maxDepth });
        while (reader.Read())
        {
            if ((reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName) && reader.ValueIsEscaped)
            {
                try
                {
                    reader.GetString();
                }
                catch (InvalidOperationException)
                {
                    return reader.TokenStartIndex;
                }
            }
        }

        return null;
    }
}
