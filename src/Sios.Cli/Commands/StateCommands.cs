using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using Sios.Brains.Registry;
using Sios.Cli.Hosting;
using Sios.Node;
using Sios.Ledger.State;
using Sios.Verify.Entries;

namespace Sios.Cli.Commands;

/// <summary><c>sios state ...</c>: the key and brain files the log vouches for (MAC'd under the master secret).</summary>
internal static class StateCommands
{
    public static Command Create() => new("state", "The key and brain files the log vouches for: check them, or adopt them as they stand.")
    {
        Check(), Adopt(),
    };

    private static Command Check()
    {
        var command = new Command("check", """
            Check the API keys and brain registry (keys/api-keys.json and brains.json, or the shared store's rows)
            against their MACs (under the master secret) and the log: exit 0 when sios trusts them, 5 naming the file and why when it refuses them (edited outside sios, or from before
            authenticated files). Lags the log corrects (a revocation or removal the file missed) are printed as notes.
            Needs SIOS_KEY_PASSPHRASE; works while 'sios serve' runs.
            """);
        command.SetAction(async (parse, ct) =>
        {
            var folder = CommonOptions.OpenData(parse);
            var passphrase = CommonOptions.Passphrase();
            var reader = folder.OpenReader();
            await using (reader.ConfigureAwait(false))
            {
                ct.ThrowIfCancellationRequested();
                if (folder.StateProblem(reader, passphrase) is { } problem)
                {
                    throw new StateFileException(problem);
                }
            }

            Terminal.Message("the key and brain files pass their MACs and agree with the log");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Adopt()
    {
        var command = new Command("adopt", """
            Take the API keys and brain registry (keys/api-keys.json and brains.json, or the shared store's rows) as
            they stand, unchecked, and rewrite them authenticated: once after upgrading from a SIOS that wrote them unauthenticated (format 1), or after inspecting a file sios refused.
            Check first ('sios key list', 'sios brain list' and 'sios brain verify' show what will be trusted): this
            vouches for whatever the files hold. Seals a state.adopted entry per file (its item count and the SHA-256 of
            the file as adopted) before rewriting it; prints each entry's index. Needs SIOS_KEY_PASSPHRASE; not while
            'sios serve' runs (exit 4).
            """);
        command.SetAction(async (parse, ct) =>
        {
            var folder = CommonOptions.OpenData(parse);
            var passphrase = CommonOptions.Passphrase();
            foreach (var adopted in await StateFiles.AdoptAsync(folder, passphrase, ct).ConfigureAwait(false))
            {
                Terminal.Result(adopted.Index.ToString(CultureInfo.InvariantCulture));
                Terminal.Message($"adopted {adopted.File} ({adopted.Items} items, sha256 {adopted.Sha256}); sealed state.adopted");
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
