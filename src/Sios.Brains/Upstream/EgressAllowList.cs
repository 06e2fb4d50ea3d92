using System.Net;
using System.Net.Sockets;

namespace Sios.Brains.Upstream;

/// <summary>
/// The hosts this process may connect to, enforced where the connection is made: <see cref="ConnectAsync"/> is a
/// <see cref="SocketsHttpHandler.ConnectCallback"/> that resolves the requested host, keeps only the addresses the
/// allow-list permits, and connects to one of those exact addresses. A host with no permitted address fails with
/// <see cref="EgressRefusedException"/> before a socket is opened, so not a byte leaves. Because the check and the
/// connection use the same resolved address, a DNS answer that changes between them cannot redirect the request.
/// </summary>
public sealed class EgressAllowList
{
    private readonly HashSet<IPAddress> _addresses;
    private readonly string[] _hostNames;
    private readonly Func<string, CancellationToken, Task<IPAddress[]>> _resolve;

    /// <summary>
    /// An allow-list of IP addresses (<c>10.0.0.7</c>, <c>fd00::1</c>) and host names (<c>gpu1.lan</c>). A listed host
    /// name allows the addresses it resolves to at connection time; any host may be reached through an allowed address.
    /// </summary>
    /// <exception cref="ArgumentException">An entry is neither an IP address nor a DNS host name (URLs and ports are not accepted).</exception>
    public EgressAllowList(IEnumerable<string> entries)
        : this(entries, Dns.GetHostAddressesAsync)
    {
    }

    internal EgressAllowList(IEnumerable<string> entries, Func<string, CancellationToken, Task<IPAddress[]>> resolve)
    {
        ArgumentNullException.ThrowIfNull(entries);
        _resolve = resolve;
        _addresses = [];
        var names = new List<string>();
        foreach (var raw in entries)
        {
            var entry = raw?.Trim() ?? string.Empty;
            if (IPAddress.TryParse(entry.Trim('[', ']'), out var address))
            {
                _addresses.Add(Canonical(address));
            }
            else if (entry.Length > 0 && Uri.CheckHostName(entry) == UriHostNameType.Dns)
            {
                names.Add(entry.ToLowerInvariant());
            }
            else
            {
                throw new ArgumentException(
                    $"Egress allow-list entry '{raw}' is neither an IP address nor a host name (write '10.0.0.7' or 'gpu1.lan', without scheme or port).",
                    nameof(entries));
            }
        }

        _hostNames = [.. names.Distinct(StringComparer.Ordinal)];
    }

    /// <summary>The listed IP addresses.</summary>
    public IReadOnlyCollection<IPAddress> Addresses => _addresses;

    /// <summary>The listed host names (lower case).</summary>
    public IReadOnlyList<string> HostNames => _hostNames;

    /// <summary>Every listed address and host name, sorted ordinally: as config digests, attestations and /status list them.</summary>
    public IReadOnlyList<string> Listed => [.. _addresses.Select(a => a.ToString()).Concat(_hostNames).Order(StringComparer.Ordinal)];

    /// <summary>Whether nothing at all may be reached (an empty list).</summary>
    public bool IsOffline => _addresses.Count == 0 && _hostNames.Length == 0;

    /// <summary>Raised for every refused destination, before the refusal is thrown (to seal it; see <see cref="EgressRefusalSealer"/>).</summary>
    public event Action<EgressRefusedException>? Refused;

    /// <summary>The policy in one line, as attested: <c>offline</c>, or <c>allow</c> and the entries in order.</summary>
    public string Describe() => IsOffline
        ? "offline"
        : "allow " + string.Join(' ', _addresses.Select(a => a.ToString()).Concat(_hostNames).Order(StringComparer.Ordinal));

    /// <summary>
    /// A handler whose every connection goes through this allow-list. Proxies are disabled, because through a proxy the
    /// callback would vet the proxy's address instead of the destination's.
    /// </summary>
    public SocketsHttpHandler CreateHandler() => new()
    {
        ConnectCallback = ConnectAsync,
        UseProxy = false,
        AllowAutoRedirect = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
    };

    /// <summary>
    /// The addresses of <paramref name="host"/> this allow-list permits, in resolution order.
    /// </summary>
    /// <exception cref="EgressRefusedException">None of them is permitted.</exception>
    public async Task<IPAddress[]> PermittedAddressesAsync(string host, int port, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        var resolved = (await ResolveAsync(host, ct).ConfigureAwait(false)).Select(Canonical).Distinct().ToArray();
        var allowed = new HashSet<IPAddress>(_addresses);
        foreach (var name in _hostNames)
        {
            try
            {
                allowed.UnionWith((await ResolveAsync(name, ct).ConfigureAwait(false)).Select(Canonical));
            }
            catch (SocketException)
            {
                // A listed name that does not resolve allows nothing; it must not stop the other entries from working.
            }
        }

        var permitted = resolved.Where(allowed.Contains).ToArray();
        if (permitted.Length > 0)
        {
            return permitted;
        }

        var refusal = new EgressRefusedException(host, port, resolved);
        Refused?.Invoke(refusal);
        throw refusal;
    }

    /// <summary>
    /// The <see cref="SocketsHttpHandler.ConnectCallback"/>: vets the destination, then opens a TCP connection to a
    /// permitted address of it.
    /// </summary>
    /// <exception cref="EgressRefusedException">No address of the destination is permitted; no socket was opened.</exception>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var endpoint = context.DnsEndPoint;
        var permitted = await PermittedAddressesAsync(endpoint.Host, endpoint.Port, cancellationToken).ConfigureAwait(false);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(permitted, endpoint.Port, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct) =>
        IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await _resolve(host, ct).ConfigureAwait(false);

    private static IPAddress Canonical(IPAddress address) =>
        address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
