namespace Sios.Server.Access;

/// <summary>Why an API key operation was refused; maps to an HTTP status (400, 409, 404) or a CLI exit code.</summary>
public enum ApiKeyError
{
    /// <summary>The request itself is wrong: a bad name, role, scope or limit.</summary>
    Invalid,

    /// <summary>The name or id is already taken by another key.</summary>
    Conflict,

    /// <summary>No live key has that name.</summary>
    NotFound,
}

/// <summary>An API key operation was refused; the message says what to change.</summary>
public sealed class ApiKeyException : Exception
{
    /// <summary>Creates the exception with a message a person can act on.</summary>
    public ApiKeyException(string message, ApiKeyError error) : base(message) => Error = error;

    /// <summary>Creates the exception with a message, as <see cref="ApiKeyError.Invalid"/>.</summary>
    public ApiKeyException(string message) : this(message, ApiKeyError.Invalid) { }

    /// <summary>Creates the exception with no message, as <see cref="ApiKeyError.Invalid"/>.</summary>
    public ApiKeyException() : this("the API key operation was refused") { }

    /// <summary>Creates the exception with a message and cause, as <see cref="ApiKeyError.Invalid"/>.</summary>
    public ApiKeyException(string message, Exception inner) : base(message, inner) => Error = ApiKeyError.Invalid;

    /// <summary>Which kind of refusal this is.</summary>
    public ApiKeyError Error { get; }
}
