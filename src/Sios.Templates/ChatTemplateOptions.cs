namespace Sios.Templates;

/// <summary>Limits and the clock for one render.</summary>
public sealed record ChatTemplateOptions
{
    /// <summary>The clock <c>strftime_now</c> reads, in its local time zone (as the reference reads local time).</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>The most characters the output, or any string built while rendering, may hold.</summary>
    public int MaxOutputChars { get; init; } = 4 * 1024 * 1024;

    /// <summary>
    /// The most steps one render may take; more throws <see cref="ChatTemplateException"/>. A loop iteration, a call and
    /// an evaluated expression are a step each; work over long strings and large lists costs in proportion to their
    /// size (a step per 16 characters or per item), so a few steps cannot hide much work.
    /// </summary>
    public int MaxSteps { get; init; } = 10_000_000;

    /// <summary>The deepest macro and call-block nesting; deeper throws <see cref="ChatTemplateException"/> (never a stack overflow).</summary>
    public int MaxDepth { get; init; } = 200;

    /// <summary>The defaults: the system clock, 4 Mi characters, 10 million steps, depth 200.</summary>
    public static ChatTemplateOptions Default { get; } = new();
}
