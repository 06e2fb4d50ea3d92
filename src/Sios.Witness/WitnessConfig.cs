using System.Text.Json;
using System.Text.Json.Serialization;
using Sios.Verify;
using Sios.Verify.Notes;

namespace Sios.Witness;

/// <summary>One log the witness cosigns for: its origin line and the vkeys any one of which must sign its checkpoints.</summary>
/// <param name="Origin">The checkpoint origin line.</param>
/// <param name="Vkeys">The log's verifier keys (signed-note vkey text).</param>
public sealed record WitnessLog(string Origin, IReadOnlyList<string> Vkeys);

/// <summary>
/// <c>witness.json</c>: the witness's name, its two cosigner vkeys (ML-DSA-44 first, then Ed25519) and the logs it
/// witnesses. Public facts only: the private keys live sealed beside it in <c>keys/</c>.
/// </summary>
/// <param name="Format">Always <see cref="FormatName"/>.</param>
/// <param name="Name">The witness name: the key name of its cosignatures.</param>
/// <param name="Cosigners">The cosigner vkeys, ML-DSA-44 (type 0x06) then Ed25519 (type 0x04).</param>
/// <param name="Logs">The logs witnessed, by origin.</param>
public sealed record WitnessConfig(string Format, string Name, IReadOnlyList<string> Cosigners, IReadOnlyList<WitnessLog> Logs)
{
    /// <summary>The format name written in every config.</summary>
    public const string FormatName = "sios-witness/v1";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>Serialises the config as indented JSON with a final newline.</summary>
    public byte[] ToJson() => [.. JsonSerializer.SerializeToUtf8Bytes(this, Json), (byte)'\n'];

    /// <summary>Parses and checks a config: format, name, vkeys that parse and origins that are valid and distinct.</summary>
    public static WitnessConfig Parse(ReadOnlySpan<byte> json)
    {
        WitnessConfig? config;
        try
        {
            config = JsonSerializer.Deserialize<WitnessConfig>(json, Json);
        }
        catch (JsonException e)
        {
            throw new FormatViolationException($"witness.json is not valid JSON: {e.Message}", e);
        }

        if (config is null || !string.Equals(config.Format, FormatName, StringComparison.Ordinal) || config.Cosigners is not { Count: 2 } || config.Logs is null)
        {
            throw new FormatViolationException($"witness.json is not a {FormatName} config (format, name, two cosigners, logs)");
        }

        NoteText.RequireValidKeyName(config.Name, "witness name");
        var keys = config.CosignerKeys();
        if (keys[0].Kind != NoteKeyKind.MlDsa44Cosignature || keys[1].Kind != NoteKeyKind.Ed25519Cosignature || keys.Any(k => !string.Equals(k.Name, config.Name, StringComparison.Ordinal)))
        {
            throw new FormatViolationException("witness.json's cosigners must be the ML-DSA-44 (0x06) then the Ed25519 (0x04) vkey, both named as the witness");
        }

        foreach (var log in config.Logs)
        {
            _ = LogKeys(log);
        }

        if (config.Logs.Select(l => l.Origin).Distinct(StringComparer.Ordinal).Count() != config.Logs.Count)
        {
            throw new FormatViolationException("witness.json lists a log origin twice");
        }

        return config;
    }

    /// <summary>The cosigner vkeys, parsed.</summary>
    public IReadOnlyList<VerifierKey> CosignerKeys() => [.. Cosigners.Select(VerifierKey.Parse)];

    /// <summary>A log's vkeys, parsed; its origin checked and at least one key required.</summary>
    public static IReadOnlyList<VerifierKey> LogKeys(WitnessLog log)
    {
        ArgumentNullException.ThrowIfNull(log);
        NoteText.RequireValidKeyName(log.Origin, "log origin");
        if (log.Vkeys is not { Count: > 0 })
        {
            throw new FormatViolationException($"log {log.Origin} has no vkey");
        }

        return [.. log.Vkeys.Select(VerifierKey.Parse)];
    }
}
