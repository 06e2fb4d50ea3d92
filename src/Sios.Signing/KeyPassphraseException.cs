namespace Sios.Signing;

/// <summary>
/// Raised when the signing key cannot be unlocked: the passphrase is missing or wrong, or the encrypted key file
/// is damaged (unauthenticated encryption cannot tell these apart).
/// </summary>
public sealed class KeyPassphraseException : Exception
{
    internal const string WrongOrDamaged =
        "Cannot unlock the signing key: wrong passphrase, or the key file is damaged.";

    /// <summary>Creates the exception with a reason a person can act on.</summary>
    public KeyPassphraseException(string message) : base(message) { }

    /// <summary>Creates the exception with a reason and the underlying cause.</summary>
    public KeyPassphraseException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception with the standard "wrong passphrase, or the key file is damaged" reason.</summary>
    public KeyPassphraseException() : base(WrongOrDamaged) { }
}
