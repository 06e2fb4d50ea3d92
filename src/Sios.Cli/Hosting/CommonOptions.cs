using System.CommandLine;
using Sios.Node;
using Sios.Signing;

namespace Sios.Cli.Hosting;

/// <summary>Options shared by many commands.</summary>
internal static class CommonOptions
{
    public static readonly Option<string> Data = new("--data")
    {
        Description = "The data folder (default ./sios-data)",
        DefaultValueFactory = _ => "sios-data",
        Recursive = true,
        HelpName = "DIR",
    };

    /// <summary>The key passphrase from SIOS_KEY_PASSPHRASE, or a clear refusal.</summary>
    public static string Passphrase()
    {
        try
        {
            return KeyPassphrase.FromEnvironment();
        }
        catch (KeyPassphraseException e)
        {
            throw new CliException(e.Message);
        }
    }

    public static DataFolder OpenData(ParseResult parse) => DataFolder.Open(parse.GetValue(Data)!);
}
