namespace Sios.Signing;

/// <summary>Raised when a key file is not a key SIOS can load; the message names what is wrong with it.</summary>
public sealed class KeyFormatException : Exception
{
    /// <summary>Creates the exception with a reason a person can act on.</summary>
    public KeyFormatException(string message) : base(message) { }

    /// <summary>Creates the exception with a reason and the underlying cause.</summary>
    public KeyFormatException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception with no reason (prefer the other constructors).</summary>
    public KeyFormatException() { }
}
