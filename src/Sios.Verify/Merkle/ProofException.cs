namespace Sios.Verify.Merkle;

/// <summary>Raised when an inclusion or consistency proof is malformed or does not prove its claim.</summary>
public sealed class ProofException : VerificationException
{
    /// <summary>Creates the exception with a reason a person can act on.</summary>
    public ProofException(string message) : base(message) { }

    /// <summary>Creates the exception with a reason and the underlying cause.</summary>
    public ProofException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception with no reason (prefer the other constructors).</summary>
    public ProofException() { }
}
