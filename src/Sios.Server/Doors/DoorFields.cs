using System.Text.Json;
using static Sios.Server.Http.JsonFields;

namespace Sios.Server.Doors;

/// <summary>
/// What every door reads the same way, whatever its API calls it: the bounds on a request's size and the fields whose
/// rules do not depend on the door (stop strings, texts to embed, a call's arguments).
/// </summary>
internal static class DoorFields
{
    /// <summary>Most messages in one conversation.</summary>
    public const int MaxMessages = 1_024;

    /// <summary>Most stop strings (the engine's own limit).</summary>
    public const int MaxStops = 16;

    /// <summary>Most texts embedded by one request.</summary>
    public const int MaxInputs = 2_048;

    /// <summary>Longest arguments of one call in a conversation's history.</summary>
    public const int MaxArgumentsBytes = 256 * 1024;

    /// <summary>The stop strings in <paramref name="root"/>'s <paramref name="name"/> (a string or an array), none empty.</summary>
    public static IReadOnlyList<string>? Stops(JsonElement root, string name = "stop")
    {
        var stop = OptionalStrings(root, name, MaxStops);
        if (stop is not null && stop.Any(string.IsNullOrEmpty))
        {
            throw Invalid(name, $"'{name}' strings must not be empty.");
        }

        return stop;
    }

    /// <summary>The texts to embed: <c>input</c> as a string or an array of non-empty strings (never token arrays).</summary>
    public static IReadOnlyList<string> EmbeddingInputs(JsonElement root)
    {
        IReadOnlyList<string> inputs;
        try
        {
            inputs = OptionalStrings(root, "input", MaxInputs) ?? throw Invalid("input", "'input' is required: a string or an array of strings.");
        }
        catch (Http.ApiException) when (Optional(root, "input") is { ValueKind: JsonValueKind.Array } array && array.EnumerateArray().Any(i => i.ValueKind is JsonValueKind.Number or JsonValueKind.Array))
        {
            throw Invalid("input", "'input' must be text: token arrays are not accepted.");
        }

        if (inputs.Count == 0 || inputs.Any(string.IsNullOrEmpty))
        {
            throw Invalid("input", "'input' must hold at least one non-empty string.");
        }

        return inputs;
    }

    /// <summary>Refuses arguments longer than <see cref="MaxArgumentsBytes"/> (as UTF-8 JSON text).</summary>
    public static void CheckArgumentsSize(string arguments, string param)
    {
        if (System.Text.Encoding.UTF8.GetByteCount(arguments) > MaxArgumentsBytes)
        {
            throw Invalid(param, $"{param} is longer than {MaxArgumentsBytes} bytes.");
        }
    }

    /// <summary>A tool's name: 1 to 64 letters, digits, '_' or '-', and not one already in <paramref name="names"/>.</summary>
    public static string ToolName(string? name, HashSet<string> names, string param)
    {
        if (!Sios.Brains.Engines.ToolDefinition.IsValidName(name))
        {
            throw Invalid(param, $"{param} must be 1 to 64 letters, digits, '_' or '-'.");
        }

        return names.Add(name!) ? name! : throw Invalid(param, $"{param} '{name}' is defined twice.");
    }
}
