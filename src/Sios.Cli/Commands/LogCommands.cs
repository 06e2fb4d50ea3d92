using System.CommandLine;
using System.Globalization;
using Sios.Cli.Hosting;
using Sios.Node;
using Sios.Ledger.Entries;
using Sios.Ledger.Pipeline;
using Sios.Ledger.Proofs;
using Sios.Ledger.Storage;
using Sios.Verify;
using Sios.Verify.Checkpoints;
using Sios.Verify.Notes;
using Sios.Verify.Rotation;
using Sios.Verify.Entries;

namespace Sios.Cli.Commands;

/// <summary><c>sios log ...</c>: seal, read, prove and audit the Open Audit Record.</summary>
internal static class LogCommands
{
    public static Command Create() => new("log", "The Open Audit Record: seal notes, print checkpoints, entries, receipts and proofs, audit the whole log, monitor a served one.")
    {
        Note(), Checkpoint(), Receipt(), Consistency(), Entry(), Verify(), Export(), MonitorCommand.Create(), DisclosureCommands.Disclose(), DiscardTailCommand.Create(),
    };

    internal static Argument<long> IndexArgument() => new("INDEX")
    {
        Description = "Zero-based entry index",
        CustomParser = r =>
        {
            var token = r.Tokens.Count == 1 ? r.Tokens[0].Value : "";
            if (!long.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                r.AddError($"INDEX must be a whole number, 0 or more (got '{token}')");
            }

            return index;
        },
    };

    private static Command Note()
    {
        var text = new Argument<string?>("TEXT") { Description = "The note to seal (stored verbatim in an operator.note entry)", Arity = ArgumentArity.ZeroOrOne };
        var stdin = new Option<bool>("--stdin") { Description = "Seal each line of stdin as its own note, as they arrive; prints each index, in input order, once sealed" };
        var command = new Command("note", "Seal an operator.note entry; prints its index once it is durable and under a signed checkpoint. Needs SIOS_KEY_PASSPHRASE.") { text, stdin };
        command.SetAction(async (parse, ct) =>
        {
            var single = parse.GetValue(text);
            var fromStdin = parse.GetValue(stdin);
            if ((single is null) == !fromStdin)
            {
                throw new CliException("give either TEXT or --stdin", ExitCodes.Usage);
            }

            var folder = CommonOptions.OpenData(parse);
            var passphrase = CommonOptions.Passphrase();
            var log = await folder.OpenLogAsync(passphrase, ct).ConfigureAwait(false);
            await using (log.ConfigureAwait(false))
            {
                if (single is not null)
                {
                    var result = await log.AppendAsync(NoteEntry(single), ct).ConfigureAwait(false);
                    Terminal.Result(result.Index.ToString(CultureInfo.InvariantCulture));
                }
                else
                {
                    await SealLinesAsync(log, Console.In, ct).ConfigureAwait(false);
                }
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static byte[] NoteEntry(string text) =>
        new OperatorNoteEntry(text).Write();

    /// <summary>Appends lines as they arrive and reports each index in input order, so output is a durable acknowledgement.</summary>
    private static async Task SealLinesAsync(TransparencyLog log, TextReader input, CancellationToken ct)
    {
        var pending = System.Threading.Channels.Channel.CreateBounded<Task<AppendResult>>(4_096);
        var printer = Task.Run(async () =>
        {
            await foreach (var append in pending.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                var result = await append.ConfigureAwait(false);
                Terminal.Result(result.Index.ToString(CultureInfo.InvariantCulture));
            }
        }, ct);

        try
        {
            while (await input.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
            {
                await pending.Writer.WriteAsync(log.AppendAsync(NoteEntry(line), ct), ct).ConfigureAwait(false);
            }
        }
        finally
        {
            pending.Writer.TryComplete();
        }

        await printer.ConfigureAwait(false);
    }

    private static Command Checkpoint()
    {
        var command = new Command("checkpoint", "Print the latest signed checkpoint, verbatim (a C2SP signed note).");
        command.SetAction(async (parse, ct) =>
        {
            await using var store = CommonOptions.OpenData(parse).OpenReader();
            var latest = await store.GetLatestCheckpointAsync(ct).ConfigureAwait(false)
                ?? throw new CliException("the log has no signed checkpoint yet");
            Terminal.ResultBytes(latest.Note);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Receipt()
    {
        var index = IndexArgument();
        var command = new Command("receipt", "Print the c2sp.org/tlog-proof@v1 receipt of entry INDEX against the latest checkpoint (SPEC §5).") { index };
        command.SetAction(async (parse, ct) =>
        {
            await using var store = CommonOptions.OpenData(parse).OpenReader();
            Terminal.ResultBytes(await WithinLog(() => LogProofs.ReceiptAsync(store, parse.GetValue(index), ct)).ConfigureAwait(false));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Consistency()
    {
        var from = new Option<long>("--from") { Description = "The older tree size", Required = true, HelpName = "N" };
        var to = new Option<long?>("--to") { Description = "The newer tree size (default: the latest checkpoint's)", HelpName = "M" };
        var command = new Command("consistency", "Print the RFC 9162 consistency proof between two tree sizes, one base64 hash per line.") { from, to };
        command.SetAction(async (parse, ct) =>
        {
            await using var store = CommonOptions.OpenData(parse).OpenReader();
            var latest = await store.GetLatestCheckpointAsync(ct).ConfigureAwait(false)
                ?? throw new CliException("the log has no signed checkpoint yet");
            var proof = await WithinLog(() => LogProofs.ConsistencyAsync(store, parse.GetValue(from), parse.GetValue(to) ?? latest.Size, ct)).ConfigureAwait(false);
            foreach (var hash in proof)
            {
                Terminal.Result(Convert.ToBase64String(hash));
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Entry()
    {
        var index = IndexArgument();
        var command = new Command("entry", "Print the bytes of entry INDEX exactly as logged and hashed (no newline added).") { index };
        command.SetAction(async (parse, ct) =>
        {
            await using var store = CommonOptions.OpenData(parse).OpenReader();
            var i = parse.GetValue(index);
            var latest = await store.GetLatestCheckpointAsync(ct).ConfigureAwait(false);
            var entries = i < (latest?.Size ?? 0) ? await store.ReadEntriesAsync(i, 1, ct).ConfigureAwait(false) : [];
            if (entries.Count != 1)
            {
                throw new CliException($"entry {i} is not in the log (the latest checkpoint covers {latest?.Size ?? 0} entries)");
            }

            Terminal.ResultBytes(entries[0]);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Verify()
    {
        var command = new Command("verify", """
            Audit the whole stored log: re-hash every entry, recompute every tile and root, verify every stored
            checkpoint's signatures and that they all describe one append-only tree, and that the store is not behind
            the newest checkpoint this log recorded as published (log/published.checkpoint: a rolled-back database; its
            absence beside a non-empty log is reported too). Signer rotations are followed from
            the original keys (keys/retired/1, or keys/ if never rotated) through the signer.rotated entries in the log;
            once signer.added has sealed an Ed25519 key, every later checkpoint must carry a valid line by it.
            Entries past the last checkpoint (unsigned_tail) are checked against their tail seal when SIOS_KEY_PASSPHRASE
            is set: a tail this log did not write is reported (the next start refuses it; see 'sios log discard-tail'),
            and so is a key or brain file that fails its MAC (edited outside sios) or lags the log.
            Prints a JSON summary on stdout; exit 0 if intact, 1 naming the first bad index or tile otherwise.
            """);
        command.SetAction(async (parse, ct) =>
        {
            var folder = CommonOptions.OpenData(parse);
            var chain = new SignerKeyChain(folder.KeyFiles.ReadOriginalVerifierKeys());
            var passphrase = Environment.GetEnvironmentVariable(Signing.KeyPassphrase.EnvironmentVariable) is { Length: > 0 } ? CommonOptions.Passphrase() : null;
            await using var store = folder.OpenReader();
            var (report, ok) = await LogAudit.RunAsync(store, chain, folder.LoadSigningKeys(), ct, folder.PublishedCheckpointPath,
                passphrase is null ? null : folder.LoadTailKey(passphrase),
                passphrase is null ? null : () => folder.StateProblem(store, passphrase)).ConfigureAwait(false);
            Terminal.Result(report);
            return ok ? ExitCodes.Ok : ExitCodes.Invalid;
        });
        return command;
    }

    private static Command Export()
    {
        var dir = new Argument<string>("DIR") { Description = "Folder to publish into (created if absent; existing full tiles are kept)" };
        var witnessed = new Option<bool>("--witnessed") { Description = "Export the tree of the newest witnessed checkpoint (with its cosignatures), not of the newest signed one" };
        var command = new Command("export", """
            Publish the log as static c2sp.org/tlog-tiles files: DIR/checkpoint, DIR/tile/<L>/<N>[.p/<W>] and
            DIR/tile/entries/<N>[.p/<W>], ready for any static web server, or for 'sios verify log DIR' offline.
            The checkpoint is written last, so DIR never names tiles it does not hold. Prints the exported size.
            When the newest checkpoint is the one a witness policy's quorum cosigned ('serve --witness-policy'), the
            exported checkpoint carries their cosignatures; --witnessed exports the tree of the newest witnessed one.
            """) { dir, witnessed };
        command.SetAction(async (parse, ct) =>
        {
            var data = CommonOptions.OpenData(parse);
            await using var store = data.OpenReader();
            var size = await TileExport.RunAsync(data, store, parse.GetValue(dir)!, parse.GetValue(witnessed), ct).ConfigureAwait(false);
            Terminal.Result(size.ToString(CultureInfo.InvariantCulture));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task<T> WithinLog<T>(Func<Task<T>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new CliException(e.Message.Split(" (Parameter")[0]);
        }
        catch (LogEmptyException e)
        {
            throw new CliException(e.Message);
        }
    }
}
