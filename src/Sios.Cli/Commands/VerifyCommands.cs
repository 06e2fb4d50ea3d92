using System.CommandLine;
using System.Text.Json;
using Sios.Cli.Hosting;
using Sios.Node;
using Sios.Verify;
using Sios.Verify.Audit;
using Sios.Verify.Checkpoints;
using Sios.Verify.Notes;
using Sios.Verify.Receipts;
using Sios.Verify.Rotation;

namespace Sios.Cli.Commands;

/// <summary><c>sios verify ...</c>: offline checks that need only the log's vkeys, never a data folder.</summary>
internal static class VerifyCommands
{
    public static Command Create() => new("verify", "Offline verification with nothing but the log's vkeys (no data folder, no server).")
    {
        Receipt(), Log(), DisclosureCommands.Verify(), AttestationVerifyCommand.Create(),
    };

    internal static Option<string[]> VkeyOption() => new("--vkey")
    {
        Description = "A trusted vkey of the log; repeat for the cosignature key (and the Ed25519 key, if the log has one and you want it checked too). Every vkey given must have signed the checkpoint.",
        Required = true,
        HelpName = "V",
    };

    /// <summary>The one way past the rule that a verifier checks the log's post-quantum signatures (SPEC §6).</summary>
    private static Option<bool> AllowEd25519OnlyOption() => new("--allow-ed25519-only")
    {
        Description = "Accept checkpoints on the log's Ed25519 (0x01) signature alone when only Ed25519 vkeys are given. Without it, such a --vkey list is refused: the ML-DSA-65 and ML-DSA-44 signatures are the log's own and are required.",
    };

    /// <summary>
    /// Refuses a vkey list that would check only the optional Ed25519 line, unless <paramref name="allowEd25519Only"/>:
    /// a checkpoint's post-quantum signatures are what the log stands on, and the Ed25519 one is a courtesy to witnesses.
    /// </summary>
    internal static void RequirePostQuantum(List<VerifierKey> keys, bool allowEd25519Only)
    {
        if (keys.All(k => k.Kind == NoteKeyKind.Ed25519) && !allowEd25519Only)
        {
            throw new CliException("--vkey: only Ed25519 vkeys were given, but the log's post-quantum signatures are required: add its ML-DSA-65 and ML-DSA-44 vkeys (sios key vkeys), or pass --allow-ed25519-only to accept the Ed25519 signature alone", ExitCodes.Usage);
        }
    }

    private static Option<string[]> RotationOption() => new("--rotation")
    {
        Description = "A rotation statement (the .tlog-proof receipt of a signer.rotated entry, from 'sios key export-public'); repeat in order, oldest first. The --vkey keys are then the original ones.",
        HelpName = "FILE",
    };

    /// <summary>The key chain from the given vkeys through the rotation statements, or null (with the reason printed) when one is refused.</summary>
    private static SignerKeyChain? FollowRotations(List<VerifierKey> keys, string[]? rotations)
    {
        var chain = new SignerKeyChain(keys);
        foreach (var file in rotations ?? [])
        {
            try
            {
                var statement = chain.Follow(ReadInput(file));
                Terminal.Message($"rotation: entry {statement.Index} hands the log to new keys from tree size {statement.Checkpoint.Checkpoint.Size}");
            }
            catch (VerificationException e)
            {
                Terminal.Message($"INVALID: rotation statement {file} is refused: {e.Message}");
                return null;
            }
        }

        return chain;
    }

    internal static List<VerifierKey> ParseVkeys(string[] given)
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

        if (keys.Select(k => k.Name).Distinct().Count() != 1)
        {
            throw new CliException("--vkey: all vkeys must name the same log (their key name is the origin)", ExitCodes.Usage);
        }

        return keys;
    }

    private static Command Log()
    {
        var dir = new Argument<string>("DIR") { Description = "A folder of static tlog-tiles files (as written by 'sios log export')" };
        var vkeys = VkeyOption();
        var logRotations = RotationOption();
        var allowEd25519Only = AllowEd25519OnlyOption();
        var command = new Command("log", """
            Audit a published log offline from its tiles alone: verify DIR/checkpoint under the given vkeys, re-hash
            every entry bundle, recompute every tile and the root. Prints a JSON summary on stdout. After a signer
            rotation, give the original vkeys and every rotation statement (--rotation). The post-quantum vkeys are
            required; an Ed25519 vkey given beside them is checked too (--allow-ed25519-only to check it alone).
            Exit codes: 0 intact, 1 not intact (the first bad index or tile is named), 2 usage error.
            """) { dir, vkeys, logRotations, allowEd25519Only };
        command.SetAction(async (parse, ct) =>
        {
            var keys = ParseVkeys(parse.GetValue(vkeys)!);
            RequirePostQuantum(keys, parse.GetValue(allowEd25519Only));
            var folder = parse.GetValue(dir)!;
            if (FollowRotations(keys, parse.GetValue(logRotations)) is not { } chain)
            {
                return ExitCodes.Invalid;
            }

            if (!Directory.Exists(folder))
            {
                throw new CliException($"{folder}: no such folder", ExitCodes.Usage);
            }

            var source = new DirectoryLogSource(folder);
            VerifiedCheckpoint checkpoint;
            try
            {
                checkpoint = chain.VerifyCheckpoint(source.ReadCheckpoint());
            }
            catch (VerificationException e)
            {
                Terminal.Message($"NOT INTACT: the checkpoint does not verify: {e.Message}");
                Terminal.Result(JsonSerializer.Serialize(new AuditReport(false, null, null, null, 1, e.Message, null, "checkpoint"), AuditReportJson.Default.AuditReport));
                return ExitCodes.Invalid;
            }

            var size = checkpoint.Checkpoint.Size;
            AuditResult result;
            using (var progress = new ProgressBar(size, "entries"))
            {
                result = await new LogAuditor(source).AuditAsync(size, [new RootClaim(size, checkpoint.Checkpoint.Root, "published checkpoint")], progress, ct).ConfigureAwait(false);
            }

            Terminal.Message(result.Intact
                ? $"intact: {result.EntriesChecked} entries and {result.TilesChecked} tiles agree with the checkpoint at size {size}"
                : $"NOT INTACT: {result.Problem}");
            Terminal.Result(JsonSerializer.Serialize(
                new AuditReport(result.Intact, size, result.EntriesChecked, result.TilesChecked, 1, result.Problem, result.BadIndex, result.BadTile),
                AuditReportJson.Default.AuditReport));
            return result.Intact ? ExitCodes.Ok : ExitCodes.Invalid;
        });
        return command;
    }

    private static Command Receipt()
    {
        var file = new Argument<string>("FILE") { Description = "The .tlog-proof receipt, or - for stdin" };
        var vkeys = VkeyOption();
        var receiptRotations = RotationOption();
        var allowEd25519Only = AllowEd25519OnlyOption();
        var command = new Command("receipt", """
            Verify a receipt offline: the checkpoint's signatures under the given vkeys (its origin must be theirs),
            and the inclusion of the entry it carries. On success prints the entry bytes on stdout. After a signer
            rotation, give the original vkeys and every rotation statement (--rotation), oldest first. The post-quantum
            vkeys are required; an Ed25519 vkey given beside them must have signed too (a receipt from before the log
            gained its Ed25519 key then fails), and one given alone is refused unless --allow-ed25519-only.
            Exit codes: 0 valid, 1 invalid (reason on stderr), 2 usage error.
            """) { file, vkeys, receiptRotations, allowEd25519Only };
        command.SetAction(parse =>
        {
            var keys = ParseVkeys(parse.GetValue(vkeys)!);
            RequirePostQuantum(keys, parse.GetValue(allowEd25519Only));
            if (FollowRotations(keys, parse.GetValue(receiptRotations)) is not { } chain)
            {
                return ExitCodes.Invalid;
            }

            var bytes = ReadInput(parse.GetValue(file)!);
            try
            {
                var receipt = chain.ReceiptVerifier().Verify(bytes);
                Terminal.ResultBytes(receipt.Entry);
                Terminal.Message($"valid: entry {receipt.Index} is in {receipt.Checkpoint.Checkpoint.Origin} at tree size {receipt.Checkpoint.Checkpoint.Size}, signed by {string.Join(" and ", receipt.Checkpoint.Signatures.Select(s => s.Key.Kind))}");
                return ExitCodes.Ok;
            }
            catch (VerificationException e)
            {
                Terminal.Message($"INVALID: {e.Message}");
                return ExitCodes.Invalid;
            }
        });
        return command;
    }

    /// <summary>Reads a receipt file (or stdin for '-'), refusing one larger than any receipt.</summary>
    internal static byte[] ReadInput(string path) => ReadInput(path, TlogProof.MaxBytes, "receipt");

    /// <summary>Reads an artefact file (or stdin for '-'), refusing a file larger than <paramref name="limit"/> bytes (any valid <paramref name="what"/> fits).</summary>
    internal static byte[] ReadInput(string path, long limit, string what)
    {
        if (path == "-")
        {
            using var stdin = Console.OpenStandardInput();
            using var buffer = new MemoryStream();
            stdin.CopyTo(buffer);
            return buffer.ToArray();
        }

        if (!File.Exists(path))
        {
            throw new CliException($"{path}: no such file", ExitCodes.Usage);
        }

        if (new FileInfo(path).Length > limit)
        {
            throw new CliException($"INVALID: {path} is larger than any {what} ({limit} bytes)", ExitCodes.Invalid);
        }

        return File.ReadAllBytes(path);
    }
}
