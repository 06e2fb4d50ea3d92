using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Sios.Brains.Engines;
using Sios.Brains.Pool;
using Sios.Brains.Registry;
using Sios.Brains.Upstream;
using Sios.Server.Access;
using Sios.Server.Hosting;
using Sios.Server.Vault;
using Sios.Signing;
using Sios.Ledger.Durable;

namespace Sios.Node;

/// <summary>What <c>sios serve</c> was asked to do.</summary>
internal sealed record ServeSettings(SiosServerOptions Server, BrainPoolOptions Pool, LogLevel LogLevel)
{
    /// <summary>The witness policy to apply, or null to publish the log's own signatures only.</summary>
    public WitnessSettings? Witnessing { get; init; }

    /// <summary>The TSA to obtain RFC 3161 tokens from, or null for none.</summary>
    public TimestampSettings? Timestamping { get; init; }
}

/// <summary>
/// The gateway assembled from a data folder: the log opened with its guards, the key and brain files checked, the pool,
/// the server started, attested and drained. <c>sios serve</c> and <c>sios demo</c> are its front ends.
/// </summary>
internal static class NodeHost
{
    /// <summary>Opens everything the gateway needs, serves until <paramref name="ct"/> or a stop signal, then drains and closes.</summary>
    public static async Task ServeAsync(DataFolder data, string passphrase, ServeSettings settings, Action<SiosServer> started, CancellationToken ct)
    {
        ServeSettings effective;
        try
        {
            settings.Server.Validate();
            settings.Pool.Validate();
            effective = settings with
            {
                Server = settings.Server with
                {
                    Version = Version(),
                    ConfigDigest = ConfigDigest(data, settings),
                    PreviousConfigDigest = LastConfigDigest(data),
                    EgressPolicy = settings.Pool.Egress.Describe(),
                    InflightPath = Path.Combine(data.Path, "run", "inflight"),
                    WitnessPolicyDigest = settings.Witnessing?.Digest,
                    NodeId = data.Config.Store is null ? null : NodeIdentity(data),
                },
            };
            if (effective.Witnessing is { } witnessSettings)
            {
                NodeWitnessing.Check(witnessSettings, effective.Pool.Egress, data.Config.Origin);
            }

            if (effective.Timestamping is { } timestampSettings)
            {
                NodeTimestamping.Check(timestampSettings, effective.Pool.Egress);
            }
        }
        catch (ArgumentException e)
        {
            throw new NodeException(e.Message, NodeFailure.Usage);
        }

        byte[] commitmentSecret;
        ContentVault vault;
        using (var master = data.LoadMasterSecret(passphrase))
        {
            commitmentSecret = master.DeriveKey(MasterSecret.CommitmentNoncePurpose);
            vault = data.OpenVault(master);
        }

        using var vaultScope = vault;

        var log = await data.OpenLogAsync(passphrase, ct).ConfigureAwait(false);
        await using (log.ConfigureAwait(false))
        {
            EntrySealer sealer = (entry, token) => log.AppendAsync(entry, token);
            _ = new EgressRefusalSealer(effective.Pool.Egress, sealer);
            // The key and brain files are checked against their MACs and the log before anything is served; a refusal is
            // sealed (state.refused) and stops the start (exit 5). Then they are rewritten as of now, so that a later
            // check reads only the entries sealed after this start.
            var authority = data.Authority(log, passphrase);
            var registry = data.Brains(sealer, authority);
            var apiKeys = data.ApiKeys(authority);
            _ = apiKeys.List();
            _ = registry.List();
            apiKeys.Refresh();
            await registry.RefreshAsync(ct).ConfigureAwait(false);
            if (effective.Pool.Egress.IsOffline && registry.List().Where(b => b.Upstream is not null).Select(b => b.Name).ToList() is { Count: > 0 } unreachable)
            {
                Notice.Write($"warning: no egress is allowed, so these upstream brains will be refused: {string.Join(", ", unreachable)} (allow their hosts with --egress HOST)");
            }

            var pool = new BrainPool(registry, new BrainLoadGuard(sealer), effective.Pool);
            await using (pool.ConfigureAwait(false))
            {
                var witnessing = effective.Witnessing is { } witness ? await NodeWitnessing.StartAsync(data, log, witness, effective.Pool.Egress, ct).ConfigureAwait(false) : null;
                Ledger.Publication.CheckpointTimestamping? timestamping = null;
                try
                {
                    IReadOnlyList<string> listening = [];
                    // The checkpoint stamped is the one served at /log/checkpoint and in receipts, so the stage reads the
                    // services it is part of: made before them, it is started only once they exist.
                    SiosServices? services = null;
                    timestamping = effective.Timestamping is { } tsa ? NodeTimestamping.Create(data, tsa, effective.Pool.Egress, () => services!.Published) : null;
                    services = new SiosServices(log, registry, pool, apiKeys, commitmentSecret, TimeProvider.System, vault)
                    {
                        // A brain added or removed through the control socket gets a fresh statement of what this machine serves.
                        BrainsChanged = async token => (await Sovereignty.Attestations.SealWhileServingAsync(data, log, effective, listening, token).ConfigureAwait(false)).Index,
                        Witnessing = witnessing,
                        Timestamping = timestamping,
                        Timestamps = NodeTimestamping.Folder(data),
                        Budgets = data.Config.Store is { } shared ? LogStores.SharedBudgets(shared) : null,
                        LatestAttestation = () => Sovereignty.Attestations.ReadLatest(data),
                        Signers = RotationHistory.Serving(log.Reader, data.KeyFiles.ReadOriginalVerifierKeys()),
                    };
                    timestamping?.Start();
                    var server = SiosServer.Create(effective.Server, services, effective.LogLevel);
                    await using (server.ConfigureAwait(false))
                    {
                        try
                        {
                            await server.StartAsync(ct).ConfigureAwait(false);
                        }
                        catch (IOException e) when (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
                        {
                            throw new NodeException($"cannot listen on {string.Join(", ", effective.Server.Urls)}: the port is already in use by another program; "
                                + "choose a free one with --urls http://127.0.0.1:PORT, or port 0 to let the system pick one");
                        }
                        catch (IOException e)
                        {
                            throw new NodeException($"cannot listen on {string.Join(", ", effective.Server.Urls)}: {e.Message}");
                        }

                        listening = server.Addresses;
                        RecordConfigDigest(data, effective.Server.ConfigDigest);
                        await Sovereignty.Attestations.SealWhileServingAsync(data, log, effective, listening, ct).ConfigureAwait(false);

                        Notice.Write($"SIOS {effective.Server.Version} serving {log.Origin} (log size {log.Latest.Size}) on {string.Join(", ", server.Addresses)}; Ctrl+C stops.");
                        if (effective.Witnessing is { } witnessed)
                        {
                            Notice.Write(NodeWitnessing.Describe(witnessed));
                        }

                        if (effective.Timestamping is { } stamped)
                        {
                            Notice.Write(NodeTimestamping.Describe(stamped));
                        }

                        started(server);
                        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct, server.Stopping);
                        await Task.Delay(Timeout.Infinite, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);

                        Notice.Write("Stopping: draining in-flight requests, then sealing system.stopped.");
                        await server.StopAsync(CancellationToken.None).ConfigureAwait(false);
                    }
                }
                finally
                {
                    if (timestamping is not null)
                    {
                        await timestamping.DisposeAsync().ConfigureAwait(false);
                    }

                    if (witnessing is not null)
                    {
                        await witnessing.DisposeAsync().ConfigureAwait(false);
                    }
                }
            }
        }

        Notice.Write("Stopped.");
    }

    /// <summary>
    /// The config digest the last start sealed, or null when none is recorded (a first start, or a folder from before
    /// this record existed): then nothing is claimed changed, and the system.started entries still tell.
    /// </summary>
    private static string? LastConfigDigest(DataFolder data)
    {
        try
        {
            var text = File.ReadAllText(data.LastConfigDigestPath).Trim();
            return text.StartsWith("sha256:", StringComparison.Ordinal) && text.Length == 71 && text[7..].All(char.IsAsciiHexDigitLower) ? text : null;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Records the digest system.started has just sealed (replaced whole, never torn).</summary>
    private static void RecordConfigDigest(DataFolder data, string digest)
    {
        DurableFile.CreateDirectory(Path.GetDirectoryName(data.LastConfigDigestPath)!);
        DurableFile.Replace(data.LastConfigDigestPath, Encoding.UTF8.GetBytes(digest + "\n"));
    }

    /// <summary>The egress allow-list of <paramref name="hosts"/>, or a usage error naming the bad one.</summary>
    internal static EgressAllowList AllowList(IReadOnlyList<string> hosts) => AsUsage(() => new EgressAllowList(hosts));

    /// <summary>What <paramref name="make"/> makes, its <see cref="ArgumentException"/> (a bad option) a usage error.</summary>
    internal static T AsUsage<T>(Func<T> make)
    {
        try
        {
            return make();
        }
        catch (ArgumentException e)
        {
            throw new NodeException(e.Message, NodeFailure.Usage);
        }
    }

    /// <summary>
    /// A node's name among those serving one shared log: the host's name and the first 8 hex digits of SHA-256 over the
    /// data folder's full path, so two copies of a folder on one host, or on hosts of the same name in different places,
    /// are told apart without a file that a copy of the folder would carry along.
    /// </summary>
    internal static string NodeIdentity(DataFolder data) =>
        $"{Environment.MachineName}:{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(data.Path)))[..8]}";

    /// <summary>The program's informational version, as sealed in system.started.</summary>
    internal static string Version() =>
        typeof(NodeHost).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>
    /// SHA-256 of the canonical configuration (compact JSON, fixed member order): the origin and every setting that
    /// changes what the gateway does. The same settings always give the same digest, so an auditor can recompute it.
    /// </summary>
    internal static string ConfigDigest(DataFolder data, ServeSettings settings)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("origin", data.Config.Origin);
            WriteSorted(json, "urls", settings.Server.Urls);
            json.WriteNumber("max_request_bytes", settings.Server.MaxRequestBodyBytes);
            json.WriteNumber("request_timeout_s", (long)settings.Server.RequestTimeout.TotalSeconds);
            json.WriteNumber("headers_timeout_s", (long)settings.Server.HeadersTimeout.TotalSeconds);
            json.WriteNumber("max_loaded", settings.Pool.MaxLoaded);
            json.WriteNumber("memory_budget_bytes", settings.Pool.MemoryBudgetBytes);
            json.WriteNumber("parallel", settings.Pool.Engine.MaxParallel);
            WriteSorted(json, "egress", settings.Pool.Egress.Listed);
            json.WriteNumber("vault_retention_days", data.Config.VaultRetentionDays);
            // Where the record is kept is part of what a node does; absent for the embedded store, whose digest stays as it was.
            if (data.Config.Store is { } store)
            {
                json.WriteString("store", store);
            }
            // Absent when none are listed, so that a gateway without CORS keeps the digest it had before the option
            // existed and an upgrade alone seals no config.changed.
            if (settings.Server.CorsOrigins.Count > 0)
            {
                WriteSorted(json, "cors_origins", settings.Server.CorsOrigins);
            }

            if (settings.Witnessing is { } witnessing)
            {
                json.WriteString("witness_policy", witnessing.Digest);
                json.WriteNumber("witness_interval_s", witnessing.Interval.TotalSeconds);
                json.WriteNumber("witness_timeout_s", witnessing.Timeout.TotalSeconds);
            }

            if (settings.Timestamping is { } timestamping)
            {
                json.WriteString("tsa_url", timestamping.Url.AbsoluteUri);
                json.WriteNumber("tsa_interval_s", timestamping.Interval.TotalSeconds);
            }

            json.WriteEndObject();
        }

        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(buffer.ToArray()));

        static void WriteSorted(Utf8JsonWriter json, string name, IEnumerable<string> values)
        {
            json.WriteStartArray(name);
            foreach (var value in values.Order(StringComparer.Ordinal))
            {
                json.WriteStringValue(value);
            }

            json.WriteEndArray();
        }
    }
}
