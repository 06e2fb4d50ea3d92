using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Sios.Cli.Hosting;
using Sios.Node;
using Sios.Verify;
using Sios.Verify.Audit;
using Sios.Verify.Checkpoints;
using Sios.Verify.Notes;
using Sios.Verify.Receipts;
using Sios.Verify.Rotation;
using Sios.Verify.Timestamps;

namespace Sios.Cli.Commands;

/// <summary><c>sios verify ...</c>: offline checks that need only the log's vkeys, never a data folder.</summary>
internal static class VerifyCommands
{
    public static Command Create() => new("verify", "Offline verification with nothing but the log's vkeys (no data folder, no server).")
    {
        Receipt(), Log(), DisclosureCommands.Verify(), AttestationVerifyCommand.Create(),
    };

    private static Command Log()
    {
        var dir = new Argument<string>("DIR") { Description = "A folder of static tlog-tiles files (as written by 'sios log export')" };
        var command = new Command("log", """
            Audit a published log offline from its tiles alone: verify DIR/checkpoint under the given vkeys (and, with
            --policy, its witness quorum), re-hash every entry bundle, recompute every tile and the root. Prints a JSON
            summary on stdout. After a signer rotation, give the original vkeys and every rotation statement (--rotation).
            Exit codes: 0 intact, 1 not intact (the first bad index or tile is named), 2 usage error.
            """) { dir };
        var trustOptions = TrustOptions.AddTo(command);

        command.SetAction(async (parse, ct) =>
        {
            var folder = parse.GetValue(dir)!;
            if (trustOptions.Read(parse) is not { } trust)
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
                checkpoint = trust.VerifyCheckpoint(source.ReadCheckpoint());
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
                ? $"intact: {result.EntriesChecked} entries and {result.TilesChecked} tiles agree with the checkpoint at size {size}{TrustOptions.WitnessSummary(checkpoint, trust)}"
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
        var command = new Command("receipt", """
            Verify a receipt offline: the checkpoint's signatures under the given vkeys (its origin must be theirs),
            with --policy the policy's quorum of witness cosignatures on it, and the inclusion of the entry it carries.
            On success prints the entry bytes on stdout. After a signer rotation, give the original vkeys and every
            rotation statement (--rotation), oldest first. A receipt fetched at answer time predates its witnessing:
            fetch it again from /log/receipts/N once the log's checkpoint is witnessed.
            With --tsa-cert and --timestamp, the RFC 3161 token (from /log/timestamps/SIZE, SIZE the receipt's tree size)
            must date this receipt's checkpoint, signed by a TSA that is, or chains to, a certificate of the PEM file and
            has the critical timeStamping extended key usage; the time it gives is printed on stderr.
            Exit codes: 0 valid, 1 invalid (reason on stderr), 2 usage error.
            """) { file };
        var trustOptions = TrustOptions.AddTo(command);
        var tsaCert = new Option<string?>("--tsa-cert")
        {
            Description = "A PEM file of the certificates trusted for time-stamps: the TSA's own, or the root CA that issued it. Needs --timestamp",
            HelpName = "PEM",
        };
        var timestamp = new Option<string?>("--timestamp")
        {
            Description = "An RFC 3161 time-stamp token (DER, as served at /log/timestamps/SIZE) over the receipt's checkpoint. Needs --tsa-cert",
            HelpName = "TOKEN",
        };
        command.Options.Add(tsaCert);
        command.Options.Add(timestamp);

        command.SetAction(parse =>
        {
            var (tsa, token) = (parse.GetValue(tsaCert), parse.GetValue(timestamp));
            if ((tsa is null) != (token is null))
            {
                throw new CliException(tsa is null ? "--timestamp needs --tsa-cert: the TSA certificate to check it under" : "--tsa-cert needs --timestamp: the token to check", ExitCodes.Usage);
            }

            var timestamps = tsa is null ? null : LoadTsaCertificates(tsa);
            var tokenBytes = token is null ? default : ReadInput(token, TimestampVerifier.MaxTokenBytes, "time-stamp token");
            if (trustOptions.Read(parse) is not { } trust)
            {
                return ExitCodes.Invalid;
            }

            var bytes = ReadInput(parse.GetValue(file)!);
            try
            {
                var receipt = trust.ReceiptVerifier().Verify(bytes);
                VerifiedTimestamp? stamp = null;
                try
                {
                    stamp = timestamps?.Verify(tokenBytes, receipt.Checkpoint.Note);
                }
                catch (VerificationException e)
                {
                    throw new VerificationException($"time-stamp token {token} does not date this receipt's checkpoint (tree size {receipt.Checkpoint.Checkpoint.Size}): {e.Message}", e);
                }

                Terminal.ResultBytes(receipt.Entry);
                Terminal.Message($"valid: entry {receipt.Index} is in {receipt.Checkpoint.Checkpoint.Origin} at tree size {receipt.Checkpoint.Checkpoint.Size}, signed by {string.Join(" and ", receipt.Checkpoint.Signatures.Select(s => s.Key.Kind))}{TrustOptions.WitnessSummary(receipt.Checkpoint, trust)}");
                if (stamp is not null)
                {
                    Terminal.Message($"time-stamped: the checkpoint at tree size {receipt.Checkpoint.Checkpoint.Size} existed by {stamp.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture)}"
                        + (stamp.Accuracy is { } accuracy ? $" (\u00b1{accuracy.TotalSeconds.ToString("0.######", CultureInfo.InvariantCulture)} s)" : "") + $", per {stamp.Tsa} (token serial {stamp.SerialNumber})");
                }

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

    /// <summary>The certificates of a <c>--tsa-cert</c> file, a usage error when it holds none.</summary>
    private static TimestampVerifier LoadTsaCertificates(string path)
    {
        var pem = ReadInput(path, TimestampVerifier.MaxPemBytes, "certificate file");
        try
        {
            return TimestampVerifier.FromPem(System.Text.Encoding.UTF8.GetString(pem));
        }
        catch (FormatViolationException e)
        {
            throw new CliException($"--tsa-cert {path}: {e.Message}", ExitCodes.Usage);
        }
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
