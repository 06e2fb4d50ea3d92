using System.CommandLine;
using Sios.Cli.Hosting;

namespace Sios.Cli.Commands;

/// <summary><c>sios key ...</c>: the log's keys.</summary>
internal static class KeyCommands
{
    public static Command Create()
    {
        var vkeys = new Command("vkeys", "Print the log's verifier keys, one per line: the ML-DSA-65 vkey, then the ML-DSA-44 cosignature vkey. No passphrase needed.");
        vkeys.SetAction(parse =>
        {
            foreach (var key in CommonOptions.OpenData(parse).LoadVerifierKeys())
            {
                Terminal.Result(key.ToString());
            }

            return ExitCodes.Ok;
        });
        return new Command("key", "The log's signing keys (made and kept on this machine).") { vkeys };
    }
}
