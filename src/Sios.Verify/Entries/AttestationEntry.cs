using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Sios.Verify.Attestations;
using Sios.Verify.Notes;

namespace Sios.Verify.Entries;

/// <summary>
/// <c>attestation</c>: a signed sovereignty statement was made. The entry holds the statement's digest and the fields
/// a log reader most wants without fetching it: the log head it covers, the software, configuration, egress, listen
/// addresses, signer vkeys and every brain (local weights with their disk state, or an upstream).
/// </summary>
/// <param name="Actor">Who made it (<c>operator</c> from the CLI, <c>system</c> while serving).</param>
/// <param name="Statement">The signed statement's digest.</param>
/// <param name="LogSize">The log size the statement covers.</param>
/// <param name="LogRoot">The log root at that size.</param>
/// <param name="Version">The software's version.</param>
/// <param name="Software">The software digest.</param>
/// <param name="Config">The configuration digest.</param>
/// <param name="Egress">The hosts upstream brains may be reached at.</param>
/// <param name="Listen">The addresses the gateway listens on.</param>
/// <param name="Signers">The log's vkeys, ML-DSA-65 first.</param>
/// <param name="Brains">Every registered brain.</param>
public sealed record AttestationEntry(
    string Actor, string Statement, long LogSize, byte[] LogRoot, string Version, string Software, string Config,
    IReadOnlyList<string> Egress, IReadOnlyList<string> Listen, IReadOnlyList<VerifierKey> Signers, IReadOnlyList<AttestedBrain> Brains)
    : TypedEntry(Actor)
{
    /// <inheritdoc/>
    public override string EntryType => EntryTypes.Attestation;

    /// <summary>The entry for <paramref name="statement"/>, whose signed text has the digest <paramref name="digest"/>.</summary>
    public static AttestationEntry From(AttestationStatement statement, string digest, string actor)
    {
        ArgumentNullException.ThrowIfNull(statement);
        return new(actor, digest, statement.LogSize, statement.LogRoot, statement.Version, statement.Software, statement.Config,
            statement.Egress, statement.Listen, statement.Signers, statement.Brains);
    }

    /// <summary>Parses an <c>attestation</c> entry; throws <see cref="FormatViolationException"/> when it is not one.</summary>
    public static LoggedEntry<AttestationEntry> Read(ReadOnlySpan<byte> entry) => ReadAs(entry, EntryTypes.Attestation, Body);

    /// <summary>Like <see cref="Read"/>, returning false instead of throwing.</summary>
    public static bool TryRead(ReadOnlySpan<byte> entry, [NotNullWhen(true)] out LoggedEntry<AttestationEntry>? read) => TryReadAs(entry, EntryTypes.Attestation, Body, out read);

    private protected override void WriteMembers(Utf8JsonWriter json)
    {
        json.WriteString("statement", Statement);
        json.WriteStartObject("log");
        json.WriteNumber("size", LogSize);
        json.WriteString("root", Convert.ToBase64String(LogRoot));
        json.WriteEndObject();
        json.WriteString("version", Version);
        json.WriteString("software", Software);
        json.WriteString("config", Config);
        GatewayFacts.WriteStrings(json, "egress", Egress);
        GatewayFacts.WriteStrings(json, "listen", Listen);
        GatewayFacts.WriteStrings(json, "signers", Signers.Select(k => k.ToString()));
        json.WriteStartArray("brains");
        foreach (var brain in Brains)
        {
            json.WriteStartObject();
            json.WriteString("name", brain.Name);
            if (brain.IsUpstream)
            {
                json.WriteString("upstream", brain.UpstreamUrl);
                json.WriteString("model", brain.UpstreamModel);
            }
            else
            {
                json.WriteString("weights", brain.Weights);
                if (brain.Adapter is not null)
                {
                    json.WriteString("adapter", brain.Adapter);
                }

                json.WriteString("disk", brain.Disk.ToString()!.ToLowerInvariant());
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static AttestationEntry Body(LogEntry header, EntryMembers m)
    {
        var log = m.Object("log");
        var root = log.String("root");
        var rootBytes = new byte[32];
        if (!Convert.TryFromBase64String(root, rootBytes, out var written) || written != 32)
        {
            throw log.Invalid("has a 'root' that is not a base64 SHA-256 hash");
        }

        var signers = new List<VerifierKey>();
        foreach (var vkey in m.Strings("signers"))
        {
            signers.Add(VerifierKey.Parse(vkey));
        }

        return new AttestationEntry(
            header.Actor, m.String("statement"), log.Int64("size"), rootBytes, m.String("version"), m.String("software"), m.String("config"),
            m.Strings("egress"), m.Strings("listen"), signers, [.. m.Objects("brains").Select(ReadBrain)]);
    }

    private static AttestedBrain ReadBrain(EntryMembers brain)
    {
        var name = brain.String("name");
        if (brain.OptionalString("upstream") is { } url)
        {
            return AttestedBrain.Remote(name, url, brain.String("model"));
        }

        var disk = brain.String("disk") switch
        {
            "ok" => DiskState.Ok,
            "changed" => DiskState.Changed,
            "missing" => DiskState.Missing,
            var other => throw brain.Invalid($"has the disk state '{other}'"),
        };
        return AttestedBrain.Local(name, brain.String("weights"), brain.OptionalString("adapter"), disk);
    }
}
