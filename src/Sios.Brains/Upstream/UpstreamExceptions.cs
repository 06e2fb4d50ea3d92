using System.Net;

namespace Sios.Brains.Upstream;

/// <summary>
/// A connection was refused by the egress allow-list before it was opened: the host is not listed and none of
/// the addresses it resolves to is allowed. Nothing was sent.
/// </summary>
public class EgressRefusedException : Exception
{
    /// <summary>Creates the exception for <paramref name="host"/>:<paramref name="port"/>, which resolved to <paramref name="addresses"/>.</summary>
    public EgressRefusedException(string host, int port, IReadOnlyList<IPAddress> addresses)
        : base($"Egress to {host}:{port} ({string.Join(", ", addresses)}) is refused: no address is in the egress allow-list. " +
            "Add the host or its address to the allow-list if this destination is intended.")
    {
        Host = host;
        Port = port;
        Addresses = addresses;
    }

    /// <summary>Creates the exception with a reason a person can act on.</summary>
    public EgressRefusedException(string message) : base(message) { }

    /// <summary>Creates the exception with a reason and the underlying cause.</summary>
    public EgressRefusedException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception with no reason (prefer the other constructors).</summary>
    public EgressRefusedException() { }

    /// <summary>The host that was to be reached.</summary>
    public string Host { get; } = string.Empty;

    /// <summary>The port that was to be reached.</summary>
    public int Port { get; }

    /// <summary>The addresses the host resolved to, none of them allowed.</summary>
    public IReadOnlyList<IPAddress> Addresses { get; } = [];
}

/// <summary>An operator-hosted upstream failed to answer a request; the message names the endpoint and the reason.</summary>
public class UpstreamException : Exception
{
    /// <summary>Creates the exception with a reason a person can act on.</summary>
    public UpstreamException(string message) : base(message) { }

    /// <summary>Creates the exception with a reason and the underlying cause.</summary>
    public UpstreamException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception with no reason (prefer the other constructors).</summary>
    public UpstreamException() { }
}

/// <summary>The upstream answered with a non-2xx status; <see cref="UpstreamMessage"/> is its own error text.</summary>
public class UpstreamHttpException : UpstreamException
{
    /// <summary>Creates the exception for an answer with <paramref name="status"/> and the upstream's <paramref name="upstreamMessage"/>.</summary>
    public UpstreamHttpException(Uri endpoint, HttpStatusCode status, string upstreamMessage)
        : base($"The upstream {endpoint} answered {(int)status} {status}: {upstreamMessage}")
    {
        StatusCode = status;
        UpstreamMessage = upstreamMessage;
    }

    /// <summary>Creates the exception with a reason a person can act on.</summary>
    public UpstreamHttpException(string message) : base(message) { }

    /// <summary>Creates the exception with a reason and the underlying cause.</summary>
    public UpstreamHttpException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception with no reason (prefer the other constructors).</summary>
    public UpstreamHttpException() { }

    /// <summary>The HTTP status the upstream answered with.</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>The error message the upstream gave (or its raw body, shortened, when it gave none in the OpenAI shape).</summary>
    public string UpstreamMessage { get; } = string.Empty;
}

/// <summary>The upstream's answer does not follow the OpenAI-compatible wire format (malformed SSE or JSON).</summary>
public class UpstreamProtocolException : UpstreamException
{
    /// <summary>Creates the exception with a reason a person can act on.</summary>
    public UpstreamProtocolException(string message) : base(message) { }

    /// <summary>Creates the exception with a reason and the underlying cause.</summary>
    public UpstreamProtocolException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception with no reason (prefer the other constructors).</summary>
    public UpstreamProtocolException() { }
}

/// <summary>The upstream did not finish answering within the configured timeout; the request was aborted.</summary>
public class UpstreamTimeoutException : UpstreamException
{
    /// <summary>Creates the exception with a reason a person can act on.</summary>
    public UpstreamTimeoutException(string message) : base(message) { }

    /// <summary>Creates the exception with a reason and the underlying cause.</summary>
    public UpstreamTimeoutException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception with no reason (prefer the other constructors).</summary>
    public UpstreamTimeoutException() { }
}
