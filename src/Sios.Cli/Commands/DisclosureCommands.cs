using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Sios.Cli.Hosting;
using Sios.Node;
using Sios.Ledger.Proofs;
using Sios.Server.Access;
using Sios.Server.Vault;
using Sios.Verify;
using Sios.Verify.Commitments;
using Sios.Verify.Disclosure;
using Sios.Ledger.Durable;

namespace Sios.Cli.Commands;

/// <summary>
/// Provable disclosure (issue 5): <c>sios log disclose</c> takes one answer's exact bytes out of the vault with their
/// nonces and receipt; <c>sios verify disclosure</c> checks them offline against the sealed commitments.
/// </summary>
internal static class DisclosureCommands
{
    /// <summary><c>sios log disclose INDEX --out DIR</c>.</summary>
    public static Command Disclose()
    {
        var index = LogCommands.IndexArgument();
        var output = new Option<string>("--out") { Description = "Folder to write the disclosure into (must not exist, or be empty)", Required = true, HelpName = "DIR" };
        var command = new Command("disclose", $"""
            Disclose the content behind the commitments of the inference entry INDEX, from the content vault: writes
            {DisclosedContent.RequestFile}, {DisclosedContent.ResponseFile} (the exact bytes), {DisclosedContent.RequestNonceFile}, {DisclosedContent.ResponseNonceFile} (base64),
            {DisclosedContent.EntryFile} (the entry bytes) and {DisclosedContent.ReceiptFile} into DIR, for a third party to check with
            'sios verify disclosure DIR --receipt DIR/{DisclosedContent.ReceiptFile} --vkey V'. Reveals that one answer only: the other
            answers' nonces stay secret. DIR must not exist or be empty; it is made the owner's alone (0700, its files
            0600), since it holds an answer in clear. Needs SIOS_KEY_PASSPHRASE; works while 'sios serve' runs. Prints DIR.
            Refuses entries that are not answers, and answers whose content was never kept or has been purged.
            """) { index, output };
        command.SetAction(async (parse, ct) =>
        {
            var i = parse.GetValue(index);
            var folder = CommonOptions.OpenData(parse);
            var target = Path.GetFullPath(parse.GetValue(output)!);
            if (File.Exists(target) || (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any()))
            {
                throw new CliException($"{target} already exists and is not empty; choose another --out folder", ExitCodes.Usage);
            }

            var done = await NodeDisclosure.DiscloseAsync(folder, CommonOptions.Passphrase(), i, target, ct).ConfigureAwait(false);
            Terminal.Message($"Disclosed entry {i} ({done.Id}): {done.RequestBytes} request bytes and {done.ResponseBytes} response bytes, kept {EntryTime(done.KeptAt)}.");
            Terminal.Result(target);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary><c>sios verify disclosure DIR --receipt FILE --vkey V [--vkey V2]</c>.</summary>
    public static Command Verify()
    {
        var dir = new Argument<string>("DIR") { Description = "A folder written by 'sios log disclose'" };
        var receiptFile = new Option<string>("--receipt") { Description = "The answer's .tlog-proof receipt (e.g. DIR/receipt.tlog-proof), or - for stdin", Required = true, HelpName = "FILE" };
        var command = new Command("disclosure", $"""
            Verify a disclosure offline: the receipt under the given vkeys, that its entry is an inference entry, and
            that its request and response commitments match {DisclosedContent.RequestFile} and {DisclosedContent.ResponseFile} under the nonces in DIR
            (and that {DisclosedContent.EntryFile}, if present, is the entry the receipt proves). Prints a JSON summary on stdout.
            Exit codes: 0 valid, 1 invalid (what failed is named), 2 usage error.
            """) { dir, receiptFile };
        var trustOptions = TrustOptions.AddTo(command, offerEd25519Only: false);
        command.SetAction(parse =>
        {
            if (trustOptions.Read(parse) is not { } trust)
            {
                return ExitCodes.Invalid;
            }

            var folder = parse.GetValue(dir)!;
            if (!Directory.Exists(folder))
            {
                throw new CliException($"{folder}: no such folder", ExitCodes.Usage);
            }

            var receipt = VerifyCommands.ReadInput(parse.GetValue(receiptFile)!);
            try
            {
                var verified = new DisclosureVerifier(trust).Verify(receipt, DisclosedContent.ReadFolder(folder));
                var checkpoint = verified.Receipt.Checkpoint.Checkpoint;
                Terminal.Result(Summary(json =>
                {
                    json.WriteBoolean("valid", true);
                    json.WriteNumber("index", verified.Receipt.Index);
                    json.WriteString("id", verified.EntryId);
                    json.WriteString("origin", checkpoint.Origin);
                    json.WriteNumber("tree_size", checkpoint.Size);
                    if (trust.Policy is not null)
                    {
                        json.WriteStartArray("witnesses");
                        verified.Receipt.Checkpoint.Witnesses.ToList().ForEach(w => json.WriteStringValue(w.Name));
                        json.WriteEndArray();
                    }
                    if (verified.Brain is not null)
                    {
                        json.WriteString("brain", verified.Brain);
                    }

                    json.WriteBoolean("stream", verified.Stream);
                }));
                Terminal.Message($"valid: {DisclosedContent.RequestFile} and {DisclosedContent.ResponseFile} are what entry {verified.Receipt.Index} of {checkpoint.Origin} sealed");
                return ExitCodes.Ok;
            }
            catch (VerificationException e)
            {
                Terminal.Result(Summary(json =>
                {
                    json.WriteBoolean("valid", false);
                    json.WriteString("problem", e.Message);
                }));
                Terminal.Message($"INVALID: {e.Message}");
                return ExitCodes.Invalid;
            }
        });
        return command;
    }


    private static string EntryTime(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Summary(Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            body(json);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
