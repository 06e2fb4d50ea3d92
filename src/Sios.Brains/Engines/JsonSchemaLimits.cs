namespace Sios.Brains.Engines;

/// <summary>
/// The budget a <c>response_format</c> JSON schema must fit, so that compiling it and running its grammar in llama.cpp
/// (which happens on the decode thread every key shares) costs a bounded amount of time and memory. A schema over
/// any limit is refused with an <see cref="ArgumentException"/> naming the keyword, which the gateway answers with a 400.
/// </summary>
public static class JsonSchemaLimits
{
    /// <summary>Schema nesting (subschemas and <c>$ref</c> hops along one path); OpenAI's strict mode allows 10.</summary>
    public const int MaxDepth = 32;

    /// <summary>
    /// The largest <c>maxLength</c>, <c>minLength</c>, <c>maxItems</c> and <c>minItems</c>: llama.cpp expands a bounded
    /// repetition into one rule per allowed repeat, so the bound is the cost.
    /// </summary>
    public const int MaxRepeat = 256;

    /// <summary>Values in one <c>enum</c>: each is an alternative the grammar follows in parallel while they begin alike.</summary>
    public const int MaxEnumValues = 256;

    /// <summary>Grammar rules the schema compiles to (before llama.cpp expands repetitions).</summary>
    public const int MaxRules = 2000;

    /// <summary>Characters of GBNF text, including the shared JSON rules.</summary>
    public const int MaxGrammarChars = 128 * 1024;

    /// <summary>
    /// Grammar elements after llama.cpp expands bounded repetitions (<c>x{m,n}</c> costs about n elements): what its
    /// grammar parser allocates and walks when a request starts.
    /// </summary>
    public const int MaxExpandedElements = 64 * 1024;

    /// <summary>
    /// Parse positions the grammar may follow at once (llama.cpp's grammar "stacks"): every token of the vocabulary is
    /// checked against each, at every decode step. Alternatives that begin alike (in <c>anyOf</c>, <c>oneOf</c>, <c>enum</c>,
    /// type lists) add up; alternatives that differ in their first characters do not. A recursive <c>$ref</c> reached
    /// through alternatives that begin alike multiplies without end and is always refused.
    /// </summary>
    public const int MaxParallelPaths = 256;
}
