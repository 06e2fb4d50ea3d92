namespace Sios.Templates;

/// <summary>A template that cannot be parsed or rendered; names the construct and where it is.</summary>
public sealed class ChatTemplateException : Exception
{
    /// <summary>Creates the exception with a reason, the construct at fault and its 1-based line and column (0 when unknown).</summary>
    public ChatTemplateException(string message, string? construct, int line, int column, bool raised = false)
        : base(message)
    {
        Construct = construct;
        Line = line;
        Column = column;
        Raised = raised;
    }

    /// <summary>Creates the exception with a reason a person can act on.</summary>
    public ChatTemplateException(string message) : base(message) { }

    /// <summary>Creates the exception with a reason and the underlying cause.</summary>
    public ChatTemplateException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception with no reason (prefer the other constructors).</summary>
    public ChatTemplateException() { }

    /// <summary>The construct at fault, e.g. "filter 'foo'", "statement 'extends'", "raise_exception", "method 'str.zfill'".</summary>
    public string? Construct { get; }

    /// <summary>The 1-based line of the construct in the template source; 0 when not known.</summary>
    public int Line { get; }

    /// <summary>The 1-based column of the construct in the template source; 0 when not known.</summary>
    public int Column { get; }

    /// <summary>True when the template itself called <c>raise_exception</c>; the message is then the template's.</summary>
    public bool Raised { get; }
}
