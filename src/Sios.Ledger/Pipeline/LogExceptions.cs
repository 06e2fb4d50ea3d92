namespace Sios.Ledger.Pipeline;

/// <summary>The append queue is full; the caller should retry after <see cref="RetryAfter"/>.</summary>
public sealed class LogBackpressureException : Exception
{
    /// <summary>Creates the exception with a retry hint.</summary>
    public LogBackpressureException(string message, TimeSpan retryAfter) : base(message) => RetryAfter = retryAfter;

    /// <summary>Creates the exception with a one-second retry hint.</summary>
    public LogBackpressureException() : this("the log's append queue is full", TimeSpan.FromSeconds(1)) { }

    /// <summary>Creates the exception with a message and a one-second retry hint.</summary>
    public LogBackpressureException(string message) : this(message, TimeSpan.FromSeconds(1)) { }

    /// <summary>Creates the exception with a message and cause.</summary>
    public LogBackpressureException(string message, Exception inner) : base(message, inner) => RetryAfter = TimeSpan.FromSeconds(1);

    /// <summary>How long to wait before retrying.</summary>
    public TimeSpan RetryAfter { get; }
}

/// <summary>The log stopped after a storage or signing failure; nothing more is sealed until it is reopened.</summary>
public sealed class LogFailedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public LogFailedException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception with no detail.</summary>
    public LogFailedException() { }

    /// <summary>Creates the exception with a message.</summary>
    public LogFailedException(string message) : base(message) { }
}

/// <summary>The stored log disagrees with its own signed checkpoint; SIOS refuses to run on it.</summary>
public sealed class LogIntegrityException : Exception
{
    /// <summary>Creates the exception naming the disagreement.</summary>
    public LogIntegrityException(string message) : base(message) { }

    /// <summary>Creates the exception with no detail.</summary>
    public LogIntegrityException() { }

    /// <summary>Creates the exception with a message and cause.</summary>
    public LogIntegrityException(string message, Exception inner) : base(message, inner) { }
}
