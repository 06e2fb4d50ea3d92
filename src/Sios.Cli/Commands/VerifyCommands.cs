using System.CommandLine;
using Sios.Cli.Hosting;
using Sios.Verify;
using Sios.Verify.Notes;
using Sios.Verify.Receipts;

namespace Sios.Cli.Commands;

/// <summary><c>sios verify ...</c>: offline checks that need only the log's vkeys, never a data folder.</summary>
internal static class VerifyCommands
{
    public static Command Create() => new("verify", "Offline verification with nothing but the log's vkeys (no data folder, no server).")
    {
        Receipt(),
    };

    private static Command Receipt()
    {
        var file = new Argument<string>("FILE") { Description = "The .tlog-proof receipt, or - for stdin" };
        var vkeys = new Option<string[]>("--vkey")
        {
            Description = "A trusted vkey of the log; repeat for the cosignature key. Every vkey given must have signed the checkpoint.",
            Required = true,
            HelpName = "V",
            AllowMultipleArgumentsPerToken = false,
        };
        var command = new Command("receipt", """
            Verify a receipt offline: the checkpoint's signatures under the given vkeys (its origin must be theirs),
            and the inclusion of the entry it carries. On success prints the entry bytes on stdout.
            Exit codes: 0 valid, 1 invalid (reason on stderr), 2 usage error.
            """) { file, vkeys };
        command.SetAction(parse =>
        {
            List<VerifierKey> keys;
            try
            {
                keys = parse.GetValue(vkeys)!.Select(VerifierKey.Parse).ToList();
            }
            catch (FormatViolationException e)
            {
                throw new CliException($"--vkey: {e.Message}", ExitCodes.Usage);
            }

            if (keys.Select(k => k.Name).Distinct().Count() != 1)
            {
                throw new CliException("--vkey: all vkeys must name the same log (their key name is the origin)", ExitCodes.Usage);
            }

            var bytes = ReadInput(parse.GetValue(file)!);
            try
            {
                var receipt = new ReceiptVerifier(keys).Verify(bytes);
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

    private static byte[] ReadInput(string path)
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

        if (new FileInfo(path).Length > TlogProof.MaxBytes)
        {
            throw new CliException($"INVALID: {path} is larger than any receipt ({TlogProof.MaxBytes} bytes)", ExitCodes.Invalid);
        }

        return File.ReadAllBytes(path);
    }
}
