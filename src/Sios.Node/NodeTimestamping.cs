using Sios.Brains.Upstream;
using Sios.Ledger.Pipeline;
using Sios.Ledger.Publication;

namespace Sios.Node;

/// <summary>What <c>sios serve --tsa</c> asks for.</summary>
/// <param name="Url">The TSA's RFC 3161 HTTP endpoint.</param>
/// <param name="Interval">How often the published checkpoint is looked at (one query per interval at most).</param>
internal sealed record TimestampSettings(Uri Url, TimeSpan Interval)
{
    /// <summary>Longest the TSA may take to answer one query.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
}

/// <summary>
/// The time-stamping stage assembled for this node: the TSA reached only through the egress allow-list, its tokens kept
/// in log/timestamps (served whether or not --tsa is given on a later start, since they stay valid).
/// </summary>
internal static class NodeTimestamping
{
    /// <summary>The token folder of <paramref name="data"/>.</summary>
    public static TimestampFolder Folder(DataFolder data) => new(Path.Combine(data.Path, "log", "timestamps"));

    /// <summary>Refuses a TSA this node may not connect to.</summary>
    public static void Check(TimestampSettings settings, EgressAllowList egress)
    {
        var host = settings.Url.IdnHost;
        if (!NodeWitnessing.Allows(egress, settings.Url))
        {
            throw new NodeException($"the TSA is at {settings.Url}, but {host} is not in the egress allow-list: add --egress {host}", NodeFailure.Usage);
        }
    }

    /// <summary>
    /// Creates the stage over the checkpoint <paramref name="published"/> returns, not yet started: the server's services
    /// refer to it (for /healthz and metrics) and it reads what they publish, so it is made first and started after them.
    /// </summary>
    public static CheckpointTimestamping Create(DataFolder data, TimestampSettings settings, EgressAllowList egress, Func<PublishedCheckpoint> published)
    {
        var client = new HttpTimestampClient(settings.Url, egress.CreateHandler(), TimestampSettings.Timeout);
        return new CheckpointTimestamping(client, Folder(data), published, new TimestampingOptions { Interval = settings.Interval, Warn = Notice.Write, Tsa = Name(settings.Url) });
    }

    /// <summary>
    /// How /healthz names the TSA: scheme, host and port only. Credentials are refused at startup already, and a path or
    /// query may still carry an API key, which an endpoint that needs no key must not show.
    /// </summary>
    internal static string Name(Uri url) => url.GetComponents(UriComponents.SchemeAndServer, UriFormat.UriEscaped);

    /// <summary>The line for the start notice.</summary>
    public static string Describe(TimestampSettings settings) =>
        $"time-stamping the published checkpoint at {settings.Url} (RFC 3161), at most every {settings.Interval.TotalSeconds:0.#} s";
}
