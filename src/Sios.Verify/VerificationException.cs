namespace Sios.Verify;

/// <summary>Raised when an artefact fails verification; the message names what is wrong.</summary>
public class VerificationException : Exception
{
    /// <summary>Creates the exception with a reason a person can act on.</summary>
    public VerificationException(string message) : base(message) { }

    /// <summary>Creates the exception with a reason and the underlying cause.</summary>
    public VerificationException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception with no reason (prefer the other constructors).</summary>
    public VerificationException() { }
}

/// <summary>Raised when input cannot be parsed at all (wrong format, over a limit).</summary>
public class FormatViolationException : VerificationException
{
    /// <summary>Creates the exception with a reason a person can act on.</summary>
    public FormatViolationException(string message) : base(message) { }

    /// <summary>Creates the exception with a reason and the underlying cause.</summary>
    public FormatViolationException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception with no reason (prefer the other constructors).</summary>
    public FormatViolationException() { }
}
