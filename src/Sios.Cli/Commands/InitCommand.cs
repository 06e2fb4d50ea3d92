using System.CommandLine;
using System.Text;
using Sios.Cli.Hosting;
using Sios.Node;
using Sios.Server.Vault;
using Sios.Verify.Notes;

namespace Sios.Cli.Commands;

/// <summary><c>sios init</c>: a new data folder with the log's key pairs and an empty, signed log.</summary>
internal static class InitCommand
{
    public static Command Create()
    {
        var origin = new Option<string>("--origin")
        {
            Description = "The log's origin line, fixed for ever (e.g. ministry.example/sios-1): no spaces or '+', at most 255 bytes",
            Required = true,
            HelpName = "ORIGIN",
        };
        var retention = new Option<int>("--retention-days")
        {
            Description = "Days the content vault keeps each answered request and response for 'sios log disclose' (0, the default, keeps nothing; stored in sios.json as vaultRetentionDays)",
            HelpName = "DAYS",
        };
        var ed25519 = new Option<bool>("--ed25519")
        {
            Description = "Also make an Ed25519 log key: every checkpoint gets a third signature line (type 0x01) after the two post-quantum ones, for witnesses that accept only Ed25519 log keys (an existing folder: 'sios key add-ed25519')",
        };
        var store = new Option<string>("--store")
        {
            Description = "Keep the log in PostgreSQL instead of log/log.db: postgres://[USER@]HOST[:PORT]/DATABASE[?schema=NAME&sslmode=MODE] (schema sios by default; stored in sios.json as store). No password in the URL: PostgreSQL's PGPASSWORD or PGPASSFILE gives it",
            HelpName = "URL",
        };
        var command = new Command("init", """
            Create a data folder: an ML-DSA-65 key pair (the log's signature), an ML-DSA-44 key pair (its C2SP
            cosignature), with --ed25519 an Ed25519 key pair, and a master secret (from which the commitment nonces are
            derived), all encrypted at rest with the passphrase in SIOS_KEY_PASSPHRASE, and an empty log with a signed
            size-0 checkpoint (with --ed25519, the log's first entry is the signer.added naming the Ed25519 key). Prints
            the vkeys on stdout, one per line: ML-DSA-65, ML-DSA-44, then Ed25519 if made.
            """) { origin, retention, ed25519, store };
        command.SetAction(async (parse, ct) =>
        {
            var name = parse.GetValue(origin)!;
            if (!NoteText.IsValidKeyName(name) || Encoding.UTF8.GetByteCount(name) > 255)
            {
                throw new CliException($"origin '{name}' is not usable: it must be 1 to 255 bytes with no spaces, '+' or control characters", ExitCodes.Usage);
            }

            var days = parse.GetValue(retention);
            if (days is < 0 or > ContentVault.MaxRetentionDays)
            {
                throw new CliException($"--retention-days must be 0 to {ContentVault.MaxRetentionDays}, not {days}", ExitCodes.Usage);
            }

            var storeUrl = parse.GetValue(store);
            if (storeUrl is not null)
            {
                _ = LogStores.ParsePostgres(storeUrl);
            }

            var passphrase = CommonOptions.Passphrase();

            var folder = await DataFolder.InitAsync(parse.GetValue(CommonOptions.Data)!, name, passphrase, ct, days, parse.GetValue(ed25519), storeUrl).ConfigureAwait(false);
            foreach (var key in folder.LoadSigningKeys())
            {
                Terminal.Result(key.ToString());
            }

            Terminal.Message($"Initialised {folder.Path} for origin {name}. The private keys and the master secret are encrypted with SIOS_KEY_PASSPHRASE: keep it safe, it cannot be recovered.");
            return ExitCodes.Ok;
        });
        return command;
    }
}
