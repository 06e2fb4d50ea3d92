namespace Sios.Brains.Engines;

/// <summary>A function the model may call (OpenAI's <c>{"type":"function","function":{…}}</c>).</summary>
/// <param name="Name">The function's name: 1 to 64 of <c>a-z A-Z 0-9 _ -</c>.</param>
/// <param name="Description">What it does, for the model; may be null.</param>
/// <param name="Parameters">The JSON Schema of its arguments (an object schema), as JSON text.</param>
/// <param name="Strict">Whether the caller asked for the schema to be followed exactly (it always is when a call is constrained).</param>
public sealed record ToolDefinition(string Name, string? Description, string Parameters, bool Strict = false)
{
    /// <summary>The schema of a function that takes no arguments.</summary>
    public const string NoParameters = """{"type":"object","properties":{}}""";

    /// <summary>Whether <paramref name="name"/> is a valid function name.</summary>
    public static bool IsValidName(string? name) =>
        name is { Length: >= 1 and <= 64 } && name.All(c => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_' or '-');
}

/// <summary>Whether and which tools the model must call (OpenAI's <c>tool_choice</c>).</summary>
public abstract record ToolMode
{
    private ToolMode()
    {
    }

    /// <summary>The model decides: it answers in text, or calls tools.</summary>
    public static ToolMode Auto { get; } = new AutoMode();

    /// <summary>The model answers in text and calls nothing.</summary>
    public static ToolMode None { get; } = new NoneMode();

    /// <summary>The model must call one or more tools.</summary>
    public static ToolMode Required { get; } = new RequiredMode();

    /// <summary>The model must call the tool named <paramref name="name"/>.</summary>
    public static ToolMode Named(string name) => new NamedMode(name);

    /// <summary>The model decides.</summary>
    public sealed record AutoMode : ToolMode;

    /// <summary>No calls.</summary>
    public sealed record NoneMode : ToolMode;

    /// <summary>At least one call.</summary>
    public sealed record RequiredMode : ToolMode;

    /// <summary>A call of one tool.</summary>
    /// <param name="Name">The tool.</param>
    public sealed record NamedMode(string Name) : ToolMode;
}
