using System.CommandLine;
using Sios.Cli.Hosting;
using Sios.Verify;
using Sios.Verify.Notes;
using Sios.Verify.Policy;
using Sios.Verify.Rotation;
using Sios.Verify.Trust;

namespace Sios.Cli.Commands;

/// <summary>
/// The options that say what a verifier trusts (<c>--vkey</c>, <c>--rotation</c>, <c>--policy</c>), read into one
/// <see cref="LogTrust"/>: every offline verifier and the monitor take the same three and the same rules.
/// </summary>
internal sealed class TrustOptions
{
    private TrustOptions(Option<string[]> vkeys, Option<string[]> rotations, Option<string?> policy)
    {
        Vkeys = vkeys;
        Rotations = rotations;
        Policy = policy;
    }

    /// <summary><c>--allow-ed25519-only</c>, when the command offers it.</summary>
    public Option<bool>? AllowEd25519Only { get; private init; }

    /// <summary><c>--vkey</c>.</summary>
    public Option<string[]> Vkeys { get; }

    /// <summary><c>--rotation</c>.</summary>
    public Option<string[]> Rotations { get; }

    /// <summary><c>--policy</c>.</summary>
    public Option<string?> Policy { get; }

    /// <summary>
    /// Creates the options and adds them to <paramref name="command"/>; with <paramref name="offerEd25519Only"/> also the
    /// one way past the rule that the log's post-quantum signatures are checked (SPEC §6).
    /// </summary>
    public static TrustOptions AddTo(Command command, bool offerEd25519Only = true)
    {
        ArgumentNullException.ThrowIfNull(command);
        var options = Create();
        command.Options.Add(options.Vkeys);
        command.Options.Add(options.Rotations);
        command.Options.Add(options.Policy);
        if (offerEd25519Only)
        {
            options = new TrustOptions(options.Vkeys, options.Rotations, options.Policy)
            {
                AllowEd25519Only = new Option<bool>("--allow-ed25519-only")
                {
                    Description = "Accept checkpoints on the log's Ed25519 (0x01) signature alone when only Ed25519 vkeys are given. Without it, such a --vkey list is refused: the ML-DSA-65 and ML-DSA-44 signatures are the log's own and are required.",
                },
            };
            command.Options.Add(options.AllowEd25519Only!);
        }

        return options;
    }

    private static TrustOptions Create() => new(
        new Option<string[]>("--vkey")
        {
            Description = "A trusted vkey of the log; repeat for the cosignature key (and the Ed25519 key, to have it checked too). Every vkey given must have signed the checkpoint. May be left out when --policy lists the log's keys",
            HelpName = "V",
        },
        new Option<string[]>("--rotation")
        {
            Description = "A rotation statement (the .tlog-proof receipt of a signer.rotated entry, from 'sios key export-public'); repeat in order, oldest first. The --vkey keys are then the original ones.",
            HelpName = "FILE",
        },
        new Option<string?>("--policy")
        {
            Description = "A c2sp.org/tlog-policy file: the checkpoint must also carry valid cosignatures from its quorum of witnesses. Its 'log' lines named by the log's origin are trusted log keys too (each of them must sign)",
            HelpName = "FILE",
        });

    /// <summary>The trust the options describe, or null (the reason printed) when a rotation statement is refused.</summary>
    public LogTrust? Read(ParseResult parse)
    {
        var policy = parse.GetValue(Policy) is { } file ? LoadPolicy(file) : null;
        var keys = ParseVkeys(parse.GetValue(Vkeys) ?? []);
        if (policy is not null)
        {
            var origins = keys.Count > 0 ? [keys[0].Name] : policy.Logs.Select(l => l.Key.Name).Distinct(StringComparer.Ordinal).ToList();
            if (origins.Count != 1)
            {
                throw new CliException(origins.Count == 0
                    ? "--policy lists no log: give the log's keys with --vkey"
                    : "--policy lists several logs: name the one to verify with its --vkey", ExitCodes.Usage);
            }

            keys = [.. keys, .. policy.LogKeys(origins[0]).Where(k => !keys.Any(g => g.KeyId == k.KeyId))];
        }

        if (keys.Count == 0)
        {
            throw new CliException("--vkey: the log's vkeys are required (or a --policy listing them)", ExitCodes.Usage);
        }

        // The Ed25519 line is a courtesy to witnesses; a checkpoint stands on its post-quantum signatures.
        if (keys.All(k => k.Kind == NoteKeyKind.Ed25519) && !(AllowEd25519Only is { } allow && parse.GetValue(allow)))
        {
            throw new CliException("--vkey: only Ed25519 vkeys were given, but the log's post-quantum signatures are required: add its ML-DSA-65 and ML-DSA-44 vkeys (sios key vkeys)"
                + (AllowEd25519Only is null ? "" : ", or pass --allow-ed25519-only to accept the Ed25519 signature alone"), ExitCodes.Usage);
        }

        var chain = new SignerKeyChain(keys);
        foreach (var statement in parse.GetValue(Rotations) ?? [])
        {
            try
            {
                var accepted = chain.Follow(VerifyCommands.ReadInput(statement));
                Terminal.Message($"rotation: entry {accepted.Index} hands the log to new keys from tree size {accepted.Checkpoint.Checkpoint.Size}");
            }
            catch (VerificationException e)
            {
                Terminal.Message($"INVALID: rotation statement {statement} is refused: {e.Message}");
                return null;
            }
        }

        return new LogTrust(chain, policy);
    }

    /// <summary>Reads a policy file, a usage error when it is missing or malformed.</summary>
    public static WitnessPolicy LoadPolicy(string file)
    {
        if (!File.Exists(file))
        {
            throw new CliException($"{file}: no such policy file", ExitCodes.Usage);
        }

        try
        {
            return WitnessPolicy.Load(file);
        }
        catch (FormatViolationException e)
        {
            throw new CliException($"{file}: {e.Message}", ExitCodes.Usage);
        }
    }

    /// <summary>Parses vkeys given on the command line; all must name one log.</summary>
    public static List<VerifierKey> ParseVkeys(IEnumerable<string> given)
    {
        List<VerifierKey> keys;
        try
        {
            keys = given.Select(VerifierKey.Parse).ToList();
        }
        catch (FormatViolationException e)
        {
            throw new CliException($"--vkey: {e.Message}", ExitCodes.Usage);
        }

        if (keys.Select(k => k.Name).Distinct().Count() > 1)
        {
            throw new CliException("--vkey: all vkeys must name the same log (their key name is the origin)", ExitCodes.Usage);
        }

        return keys;
    }

    /// <summary>A line on what a verified checkpoint's witnesses were, or empty without a policy.</summary>
    public static string WitnessSummary(Sios.Verify.Checkpoints.VerifiedCheckpoint checkpoint, LogTrust trust) =>
        trust.Policy is null ? "" : checkpoint.Witnesses.Count == 0
            ? $"; policy quorum '{trust.Policy.QuorumName}' needs no witness"
            : $"; cosigned by {string.Join(", ", checkpoint.Witnesses.Select(w => w.Name))} (quorum '{trust.Policy.QuorumName}' met)";
}
