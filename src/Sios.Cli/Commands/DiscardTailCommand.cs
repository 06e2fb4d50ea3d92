using System.CommandLine;
using System.Globalization;
using Sios.Cli.Hosting;
using Sios.Node;

namespace Sios.Cli.Commands;

/// <summary><c>sios log discard-tail</c>: the front end of <see cref="LogRepair.DiscardTailAsync"/>.</summary>
internal static class DiscardTailCommand
{
    public static Command Create()
    {
        var command = new Command("discard-tail", """
            Remove entries past the last signed checkpoint that this log did not write (their tail seal does not
            match: they were added to the store by hand, or damaged), after which the log opens again. The removed
            entries are kept in log/discarded/FROM-TO.entries (tlog-tiles entry bundle, 0600), and a log.tail.discarded
            entry (first index, count, SHA-256 of that file) is sealed. A tail the log did write is never removed (the
            next start signs it). Prints the index of the sealed entry, or nothing when there was nothing to discard.
            Needs SIOS_KEY_PASSPHRASE; not while 'sios serve' runs (exit 4).
            """);
        command.SetAction(async (parse, ct) =>
        {
            var done = await LogRepair.DiscardTailAsync(CommonOptions.OpenData(parse), CommonOptions.Passphrase(), ct).ConfigureAwait(false);
            if (done.SealedAt is { } index)
            {
                Terminal.Message($"discarded {done.Count} entries from index {done.From}; kept aside in log/discarded/; sealed as log.tail.discarded");
                Terminal.Result(index.ToString(CultureInfo.InvariantCulture));
            }
            else
            {
                Terminal.Message(done.Count == 0
                    ? "nothing to discard: no entries follow the last signed checkpoint"
                    : $"nothing discarded: the {done.Count} entries past the last signed checkpoint are this log's own (a crash left them); the next start signs them");
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
