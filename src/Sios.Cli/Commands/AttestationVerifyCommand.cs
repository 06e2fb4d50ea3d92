using System.CommandLine;
using Sios.Cli.Hosting;
using Sios.Node;
using Sios.Verify;
using Sios.Verify.Attestations;
using Sios.Verify.Notes;

namespace Sios.Cli.Commands;

/// <summary><c>sios verify attestation FILE --vkey V</c>: check a signed attestation offline with the log's ML-DSA-65 vkey.</summary>
internal static class AttestationVerifyCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "The signed attestation (as written by 'sios attest'), or - for stdin" };
        var vkeys = new Option<string[]>("--vkey")
        {
            Description = "The log's ML-DSA-65 vkey (the first line of 'sios key vkeys'); other vkeys given are ignored",
            Required = true,
            HelpName = "V",
        };
        var command = new Command("attestation", """
            Verify a signed attestation offline: its ML-DSA-65 signature under the given vkey, the statement's
            format (sios-attestation/v1, canonical), its origin (the vkey's name), and that its software digest is
            the digest of its component lines. On success prints the statement text on stdout.
            Exit codes: 0 valid, 1 invalid (reason on stderr), 2 usage error.
            """) { file, vkeys };
        command.SetAction(parse =>
        {
            VerifierKey key;
            try
            {
                key = parse.GetValue(vkeys)!.Select(VerifierKey.Parse).FirstOrDefault(k => k.Kind == NoteKeyKind.MlDsa65)
                    ?? throw new CliException("--vkey: an attestation is verified with the log's ML-DSA-65 vkey; none was given", ExitCodes.Usage);
            }
            catch (FormatViolationException e)
            {
                throw new CliException($"--vkey: {e.Message}", ExitCodes.Usage);
            }

            try
            {
                var verified = new AttestationVerifier(key).Verify(ReadFile(parse.GetValue(file)!));
                Terminal.ResultBytes(verified.Note.TextBytes);
                var s = verified.Statement;
                Terminal.Message($"valid: attestation by {s.Origin} made at {AttestationStatement.FormatTime(s.Time)} (log size {s.LogSize}, {s.Brains.Count} brain(s), {verified.Sha256})");
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

    /// <summary>Reads an attestation file (or stdin for '-'), refusing one larger than any attestation.</summary>
    internal static byte[] ReadFile(string path) => VerifyCommands.ReadInput(path, AttestationLimits.Default.MaxBytes, "attestation");
}
