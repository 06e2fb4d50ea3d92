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

            var passphrase = CommonOptions.Passphrase();
            byte[] entry;
            byte[] receipt;
            await using (var store = folder.OpenReader())
            {
                var latest = await store.GetLatestCheckpointAsync(ct).ConfigureAwait(false);
                var entries = i < (latest?.Size ?? 0) ? await store.ReadEntriesAsync(i, 1, ct).ConfigureAwait(false) : [];
                if (entries.Count != 1)
                {
                    throw new CliException($"entry {i} is not in the log (the latest checkpoint covers {latest?.Size ?? 0} entries)");
                }

                entry = entries[0];
                receipt = await LogProofs.ReceiptAsync(store, i, latest!, ct).ConfigureAwait(false);
            }

            var (id, requestCommitment, responseCommitment) = Commitments(i, entry);
            VaultContent? content;
            byte[] requestNonce;
            byte[] responseNonce;
            using (var master = folder.LoadMasterSecret(passphrase))
            {
                var secret = master.DeriveKey(Sios.Signing.MasterSecret.CommitmentNoncePurpose);
                requestNonce = Commitment.DeriveNonce(secret, id, "request");
                responseNonce = Commitment.DeriveNonce(secret, id, "response");
                System.Security.Cryptography.CryptographicOperations.ZeroMemory(secret);
                using var vault = folder.OpenVault(master);
                try
                {
                    content = vault.Read(id);
                }
                catch (VaultException e)
                {
                    throw new CliException($"refusing to disclose entry {i}: {e.Message}", ExitCodes.Invalid);
                }
            }

            if (content is null)
            {
                throw new CliException($"the content of entry {i} is not in the vault: it was never kept (vaultRetentionDays in sios.json was 0 when it was answered) "
                    + $"or it was purged past the retention of {folder.Config.VaultRetentionDays} days (sealed as {ContentVault.PurgedEntryType})");
            }

            if (!Commitment.Matches(requestCommitment, requestNonce, content.Request) || !Commitment.Matches(responseCommitment, responseNonce, content.Response))
            {
                throw new CliException($"refusing to disclose entry {i}: the vault's content does not match the entry's sealed commitments", ExitCodes.Invalid);
            }

            // Plaintext of one answer: the folder is the operator's alone (0700, an empty one given is narrowed to it)
            // and each file 0600; handing it to the third party is a deliberate act, not a side effect of umask.
            DurableFile.CreateDirectory(target);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(target, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            Write(target, DisclosedContent.RequestFile, content.Request);
            Write(target, DisclosedContent.ResponseFile, content.Response);
            Write(target, DisclosedContent.RequestNonceFile, Encoding.ASCII.GetBytes(Convert.ToBase64String(requestNonce) + "\n"));
            Write(target, DisclosedContent.ResponseNonceFile, Encoding.ASCII.GetBytes(Convert.ToBase64String(responseNonce) + "\n"));
            Write(target, DisclosedContent.EntryFile, entry);
            Write(target, DisclosedContent.ReceiptFile, receipt);
            Terminal.Message($"Disclosed entry {i} ({id}): {content.Request.Length} request bytes and {content.Response.Length} response bytes, kept {EntryTime(content.KeptAt)}.");
            Terminal.Result(target);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Creates one file of a disclosure, readable by its owner only; the folder was empty, so a name taken means someone else is writing there.</summary>
    private static void Write(string folder, string name, byte[] content)
    {
        if (!DurableFile.TryCreate(Path.Combine(folder, name), content))
        {
            throw new CliException($"{Path.Combine(folder, name)} appeared while the disclosure was being written; choose another --out folder");
        }
    }

    /// <summary><c>sios verify disclosure DIR --receipt FILE --vkey V [--vkey V2]</c>.</summary>
    public static Command Verify()
    {
        var dir = new Argument<string>("DIR") { Description = "A folder written by 'sios log disclose'" };
        var receiptFile = new Option<string>("--receipt") { Description = "The answer's .tlog-proof receipt (e.g. DIR/receipt.tlog-proof), or - for stdin", Required = true, HelpName = "FILE" };
        var vkeys = VerifyCommands.VkeyOption();
        var command = new Command("disclosure", $"""
            Verify a disclosure offline: the receipt under the given vkeys, that its entry is an inference entry, and
            that its request and response commitments match {DisclosedContent.RequestFile} and {DisclosedContent.ResponseFile} under the nonces in DIR
            (and that {DisclosedContent.EntryFile}, if present, is the entry the receipt proves). Prints a JSON summary on stdout.
            Exit codes: 0 valid, 1 invalid (what failed is named), 2 usage error.
            """) { dir, receiptFile, vkeys };
        command.SetAction(parse =>
        {
            var keys = VerifyCommands.ParseVkeys(parse.GetValue(vkeys)!);
            var folder = parse.GetValue(dir)!;
            if (!Directory.Exists(folder))
            {
                throw new CliException($"{folder}: no such folder", ExitCodes.Usage);
            }

            var receipt = VerifyCommands.ReadInput(parse.GetValue(receiptFile)!);
            try
            {
                var verified = new DisclosureVerifier(keys).Verify(receipt, DisclosedContent.ReadFolder(folder));
                var checkpoint = verified.Receipt.Checkpoint.Checkpoint;
                Terminal.Result(Summary(json =>
                {
                    json.WriteBoolean("valid", true);
                    json.WriteNumber("index", verified.Receipt.Index);
                    json.WriteString("id", verified.EntryId);
                    json.WriteString("origin", checkpoint.Origin);
                    json.WriteNumber("tree_size", checkpoint.Size);
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

    private static (string Id, string Request, string Response) Commitments(long index, byte[] entry)
    {
        using var doc = JsonDocument.Parse(entry);
        var root = doc.RootElement;
        var type = root.TryGetProperty("type", out var t) ? t.GetString() : null;
        if (type != "inference")
        {
            throw new CliException($"entry {index} is a '{type}' entry, not an 'inference' entry: only answers have content to disclose");
        }

        var id = root.GetProperty("id").GetString()!;
        if (!root.TryGetProperty("request", out var request) || !root.TryGetProperty("response", out var response))
        {
            throw new CliException($"entry {index} commits to no request body (the request was refused before its body was read): there is nothing to disclose");
        }

        return (id, request.GetString()!, response.GetString()!);
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
