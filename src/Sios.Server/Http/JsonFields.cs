using System.Text.Json;
using Sios.Brains.Engines;

namespace Sios.Server.Http;

/// <summary>Typed reads of request fields, each failing with a 400 that names the field and what it must be.</summary>
internal static class JsonFields
{
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 64, CommentHandling = JsonCommentHandling.Disallow, AllowTrailingCommas = false };

    /// <summary>Parses <paramref name="body"/> as one JSON object.</summary>
    public static JsonDocument ParseObject(byte[] body)
    {
        if (body.Length == 0)
        {
            throw new ApiException("The request body is empty; send a JSON object.");
        }

        // The reader checks structure but decodes strings lazily; checking the encoding up front keeps a bad byte from
        // surfacing later as a decoding failure deep in the request.
        if (!System.Text.Unicode.Utf8.IsValid(body))
        {
            throw new ApiException("The request body is not valid UTF-8.");
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body, Options);
        }
        catch (JsonException e)
        {
            throw new ApiException($"The request body is not valid JSON: {e.Message}", e);
        }

        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            doc.Dispose();
            throw new ApiException("The request body must be a JSON object.");
        }

        if (JsonEscapes.FirstUndecodableString(body, Options.MaxDepth) is { } at)
        {
            doc.Dispose();
            throw new ApiException($"The request body has a string with an invalid \\u escape (a lone UTF-16 surrogate) at byte {at}.");
        }

        return doc;
    }

    /// <summary>
    /// The field, or null when absent or JSON null. Reading a field of anything but an object is the client's mistake
    /// (a 400 naming the field), never a 500: every door reads nested members through here.
    /// </summary>
    public static JsonElement? Optional(JsonElement root, string name) =>
        root.ValueKind != JsonValueKind.Object
            ? throw Invalid(name, $"'{name}' is a member of an object, but a JSON {root.ValueKind.ToString().ToLowerInvariant()} was given where that object belongs.")
            : root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    public static string RequiredString(JsonElement root, string name)
    {
        var value = Optional(root, name) ?? throw Invalid(name, $"'{name}' is required.");
        if (value.ValueKind != JsonValueKind.String || value.GetString() is not { Length: > 0 } text)
        {
            throw Invalid(name, $"'{name}' must be a non-empty string.");
        }

        return text;
    }

    public static string? OptionalString(JsonElement root, string name)
    {
        if (Optional(root, name) is not { } value)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw Invalid(name, $"'{name}' must be a string.");
    }

    public static bool OptionalBool(JsonElement root, string name, bool fallback)
    {
        if (Optional(root, name) is not { } value)
        {
            return fallback;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Invalid(name, $"'{name}' must be true or false."),
        };
    }

    public static long? OptionalInteger(JsonElement root, string name, long min, long max)
    {
        if (Optional(root, name) is not { } value)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var number))
        {
            throw Invalid(name, $"'{name}' must be an integer.");
        }

        if (number < min || number > max)
        {
            throw Invalid(name, $"'{name}' must be between {min} and {max} (got {number}).");
        }

        return number;
    }

    public static float? OptionalNumber(JsonElement root, string name, double min, double max)
    {
        if (Optional(root, name) is not { } value)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var number) || !double.IsFinite(number))
        {
            throw Invalid(name, $"'{name}' must be a number.");
        }

        if (number < min || number > max)
        {
            throw Invalid(name, $"'{name}' must be between {min} and {max} (got {number}).");
        }

        return (float)number;
    }

    /// <summary>A string or an array of strings (OpenAI accepts both for <c>stop</c>, <c>prompt</c> and <c>input</c>).</summary>
    public static IReadOnlyList<string>? OptionalStrings(JsonElement root, string name, int maxCount)
    {
        if (Optional(root, name) is not { } value)
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.String)
        {
            return [value.GetString()!];
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw Invalid(name, $"'{name}' must be a string or an array of strings.");
        }

        if (value.GetArrayLength() > maxCount)
        {
            throw Invalid(name, $"'{name}' holds at most {maxCount} strings (got {value.GetArrayLength()}).");
        }

        var list = new List<string>(value.GetArrayLength());
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                throw Invalid(name, $"'{name}' must be a string or an array of strings.");
            }

            list.Add(item.GetString()!);
        }

        return list;
    }

    /// <summary>Refuses a feature this server does not offer rather than silently ignoring it.</summary>
    public static void Unsupported(JsonElement root, string name, string why)
    {
        if (Optional(root, name) is { } value && !IsEmptyOrFalse(value))
        {
            throw Invalid(name, $"'{name}' is not supported: {why}");
        }
    }

    public static ApiException Invalid(string param, string message) => new(400, message, param: param, code: "invalid_value");

    private static bool IsEmptyOrFalse(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.False or JsonValueKind.Null => true,
        JsonValueKind.Array => value.GetArrayLength() == 0,
        _ => false,
    };
}
