using System.CommandLine;
using Sios.Cli.Hosting;
using Sios.Node;
using Sios.Node.Sovereignty;
using Sios.Ledger.Sqlite;
using Sios.Verify;
using Sios.Verify.Attestations;
using Sios.Verify.Checkpoints;
using Sios.Verify.Notes;

namespace Sios.Cli.Commands;

/// <summary><c>sios attest</c>: make the signed sovereignty statement, or re-derive one and list the drift.</summary>
internal static class AttestCommand
{
    public static Command Create()
    {
        var output = new Option<string?>("--out") { Description = "Write the signed statement to FILE instead of stdout", HelpName = "FILE" };
        var check = new Option<string?>("--check")
        {
            Description = "Do not attest: verify FILE with this folder's vkey, re-derive the statement here and now, print each difference (exit 1 if any)",
            HelpName = "FILE",
        };
        var urls = new Option<string[]>("--urls")
        {
            Description = "Addresses the statement says the gateway listens on (as given to 'sios serve --urls'); none by default",
            HelpName = "URL",
            AllowMultipleArgumentsPerToken = true,
        };
        var egress = new Option<string[]>("--egress")
        {
            Description = "Hosts the statement says upstream brains may be reached at (as given to 'sios serve --egress'); none by default",
            HelpName = "HOST",
        };
        var cors = ServeCommand.CorsOriginOption("Web origins the gateway lets browser apps in from (as given to 'sios serve --cors-origin'; part of the config digest); none by default");
        var witness = ServeCommand.WitnessOptions.Create("The witness policy the gateway serves with (as given to 'sios serve --witness-policy'; part of the config digest, with --witness-interval and --witness-timeout); none by default");
        var command = new Command("attest", """
            Make a signed attestation: a c2sp.org/signed-note signed by the log's ML-DSA-65 key whose text
            (format sios-attestation/v1, documented in README) lists every brain with its pinned weights/adapter
            digests and whether the files on disk still match, the signer vkeys, the software digest (SHA-256 of
            sios.dll, Sios.*.dll and the native llama.cpp libraries), the config digest, the egress policy, the
            listening addresses and the log's size and root at that moment. Seals an 'attestation' entry holding
            the statement's SHA-256 and fields, keeps a copy in DATA/attestations/INDEX.attestation, and prints the
            signed statement. Needs SIOS_KEY_PASSPHRASE and the log (not while 'sios serve' runs: serve attests
            by itself at start). Check one anywhere with 'sios verify attestation FILE --vkey V'.
            With --check FILE: re-derive the statement on this machine and print every difference as
            '- LINE' (attested, no longer true) and '+ LINE' (true now, not attested); time and log lines are not
            compared, but the attested root must be the log's own at that size. Exit 0 no drift, 1 drift or invalid.
            """) { output, check, urls, egress, cors, witness.Policy, witness.Interval, witness.Timeout };
        command.SetAction(async (parse, ct) =>
        {
            var data = CommonOptions.OpenData(parse);
            var facts = Attestations.StandAlone(data, ServeCommand.Split(parse.GetValue(urls)), ServeCommand.Split(parse.GetValue(egress)), ServeCommand.CorsOrigins(parse, cors), witness.Read(parse));
            if (parse.GetValue(check) is { } file)
            {
                return await CheckAsync(data, file, facts, ct).ConfigureAwait(false);
            }

            var passphrase = CommonOptions.Passphrase();
            var log = await data.OpenLogAsync(passphrase, ct).ConfigureAwait(false);
            SealedAttestation made;
            await using (log.ConfigureAwait(false))
            {
                var latest = log.Latest;
                var statement = await Attestations.DeriveAsync(data, latest.Size, latest.Root, facts, ct).ConfigureAwait(false);
                made = await Attestations.SealAsync(data, log, statement, "operator", ct).ConfigureAwait(false);
            }

            if (parse.GetValue(output) is { } path)
            {
                await File.WriteAllBytesAsync(path, made.Note, ct).ConfigureAwait(false);
            }
            else
            {
                Terminal.ResultBytes(made.Note);
            }

            Terminal.Message($"attestation sealed as entry {made.Index} ({made.Sha256}); a copy is kept in {made.File}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task<int> CheckAsync(DataFolder data, string file, GatewayFacts facts, CancellationToken ct)
    {
        var keys = data.LoadVerifierKeys();
        VerifiedAttestation attested;
        try
        {
            attested = new AttestationVerifier(keys[0]).Verify(AttestationVerifyCommand.ReadFile(file));
        }
        catch (VerificationException e)
        {
            Terminal.Message($"INVALID: {e.Message}");
            return ExitCodes.Invalid;
        }

        var statement = attested.Statement;
        var drift = new List<string>();
        await using (var store = data.OpenReader())
        {
            if (await StoredRootAsync(store, CheckpointVerifier.ForLogKeys(keys), statement.LogSize, ct).ConfigureAwait(false) is not { } root)
            {
                drift.Add($"! log: no signed checkpoint at the attested size {statement.LogSize}");
            }
            else if (!root.AsSpan().SequenceEqual(statement.LogRoot))
            {
                drift.Add($"! log: the root at size {statement.LogSize} is {Convert.ToBase64String(root)}, not the attested {Convert.ToBase64String(statement.LogRoot)}");
            }
        }

        var now = await Attestations.DeriveAsync(data, statement.LogSize, statement.LogRoot, facts, ct).ConfigureAwait(false);
        drift.AddRange(Diff(statement.ToText(), now.ToText()));
        foreach (var line in drift)
        {
            Terminal.Result(line);
        }

        Terminal.Message(drift.Count == 0
            ? $"no drift: this machine still matches the attestation made at {AttestationStatement.FormatTime(statement.Time)}"
            : $"DRIFT: {drift.Count} difference(s) from the attestation made at {AttestationStatement.FormatTime(statement.Time)}");
        return drift.Count == 0 ? ExitCodes.Ok : ExitCodes.Invalid;
    }

    /// <summary>'- LINE' for each attested line no longer true, then '+ LINE' for each line true now but not attested.</summary>
    internal static IReadOnlyList<string> Diff(string attested, string now)
    {
        static List<string> Lines(string text) => [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !AttestationStatement.IsMomentLine(l))];
        var before = Lines(attested);
        var after = Lines(now);
        var beforeSet = before.ToHashSet(StringComparer.Ordinal);
        var afterSet = after.ToHashSet(StringComparer.Ordinal);
        return [.. before.Where(l => !afterSet.Contains(l)).Select(l => "- " + l), .. after.Where(l => !beforeSet.Contains(l)).Select(l => "+ " + l)];
    }

    private static async Task<byte[]?> StoredRootAsync(Sios.Ledger.Storage.ILogReader store, CheckpointVerifier verifier, long size, CancellationToken ct)
    {
        await foreach (var stored in store.ReadCheckpointsAsync(size, ct).ConfigureAwait(false))
        {
            if (stored.Size != size)
            {
                return null;
            }

            try
            {
                return verifier.Verify(stored.Note).Checkpoint.Root;
            }
            catch (VerificationException e)
            {
                throw new CliException($"the stored checkpoint at size {size} does not verify: {e.Message}", ExitCodes.Invalid);
            }
        }

        return null;
    }
}
