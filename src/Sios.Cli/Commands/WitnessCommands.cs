using System.CommandLine;
using Sios.Cli.Hosting;
using Sios.Ledger.Durable;
using Sios.Witness;

namespace Sios.Cli.Commands;

/// <summary><c>sios witness ...</c>: a c2sp.org/tlog-witness anyone can run, over its own data folder.</summary>
internal static class WitnessCommands
{
    public static Command Create() => new("witness", """
        A C2SP tlog-witness: it cosigns a log's checkpoint only when it is signed by the log's key and consistent with
        every checkpoint of that log it cosigned before. --data is the witness's own folder, never a log's.
        """)
    {
        Init(), AddLog(), Vkeys(), Serve(),
    };

    private static Command Init()
    {
        var name = new Option<string>("--name") { Description = "The witness name, the key name of its cosignatures (e.g. witness.example/w1)", Required = true, HelpName = "NAME" };
        var command = new Command("init", """
            New witness folder: an ML-DSA-44 key (subtree/v1 cosignatures, type 0x06) and an Ed25519 key (cosignature/v1,
            type 0x04), encrypted PKCS#8 under SIOS_KEY_PASSPHRASE, and witness.json; prints both vkeys, ML-DSA-44 first.
            """) { name };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(CommonOptions.Data)!;
            if (File.Exists(Path.Combine(path, "sios.json")))
            {
                throw new CliException($"{path} is a log's data folder; give the witness a --data of its own", ExitCodes.Usage);
            }

            var folder = Run(() => WitnessFolder.Init(path, parse.GetValue(name)!, CommonOptions.Passphrase()));
            PrintVkeys(folder);
            Terminal.Message($"witness {folder.Config.Name} created in {path}; add logs with 'sios witness add-log'");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command AddLog()
    {
        var origin = new Option<string>("--origin") { Description = "The log's origin line", Required = true, HelpName = "ORIGIN" };
        var vkeys = new Option<string[]>("--vkey")
        {
            Description = "A log vkey (ML-DSA-65 0xff+OID, ML-DSA-44 0x06 or Ed25519 0x01); repeat for more. A checkpoint needs a valid signature from one of them",
            Required = true,
            HelpName = "VKEY",
        };
        var command = new Command("add-log", "Witness the log ORIGIN under the given vkeys. Not while the witness serves (exit 4); restart it to serve the log.") { origin, vkeys };
        command.SetAction(parse =>
        {
            var folder = Run(() => WitnessFolder.Open(parse.GetValue(CommonOptions.Data)!));
            Run(() => folder.AddLog(parse.GetValue(origin)!, parse.GetValue(vkeys)!));
            Terminal.Message($"witnessing {parse.GetValue(origin)} ({folder.Config.Logs.Count} logs)");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Vkeys()
    {
        var command = new Command("vkeys", "The witness's vkeys: the ML-DSA-44 cosigner vkey, then the Ed25519 one, one per line.");
        command.SetAction(parse =>
        {
            PrintVkeys(Run(() => WitnessFolder.Open(parse.GetValue(CommonOptions.Data)!)));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Serve()
    {
        var urls = new Option<string[]>("--urls")
        {
            Description = $"Addresses to listen on (IP literals), comma-separated or repeated (default {WitnessServerOptions.DefaultUrl}: loopback only; port 0 picks a free port)",
            HelpName = "URL",
            AllowMultipleArgumentsPerToken = true,
        };
        var maxBody = new Option<long?>("--max-request-bytes") { Description = "Largest add-checkpoint body accepted, in bytes (default 131072)", HelpName = "N" };
        var timeout = new Option<int?>("--request-timeout") { Description = "Longest a client may take to send a request, in seconds (default 10)", HelpName = "SECONDS" };
        var command = new Command("serve", """
            Serve the witness: POST /add-checkpoint (c2sp.org/tlog-witness) and GET /<hex SHA-256 of the origin>/checkpoint,
            the latest cosigned checkpoint of a log; and its console at /console/, where anyone can see and check in a
            browser what it cosigned (read from GET /witness/logs and /witness/record). Needs SIOS_KEY_PASSPHRASE. Every
            cosignature is fsynced to the folder's record before it is answered. Prints the bound address(es) on stdout once serving; stops on
            Ctrl+C / SIGTERM. One process serves a folder at a time (exit 4).
            """) { urls, maxBody, timeout };
        command.SetAction(async (parse, ct) =>
        {
            var folder = Run(() => WitnessFolder.Open(parse.GetValue(CommonOptions.Data)!));
            var passphrase = CommonOptions.Passphrase();
            var defaults = new WitnessServerOptions();
            var options = new WitnessServerOptions
            {
                Urls = ServeCommand.Split(parse.GetValue(urls)) is { Count: > 0 } list ? list : defaults.Urls,
                MaxRequestBodyBytes = parse.GetValue(maxBody) ?? defaults.MaxRequestBodyBytes,
                RequestTimeout = parse.GetValue(timeout) is { } seconds ? TimeSpan.FromSeconds(seconds) : defaults.RequestTimeout,
                Console = Sios.Server.Console.ConsoleEndpoints.ServePlainAsync,
            };
            using var cosigner = folder.LoadCosigner(passphrase);
            using var state = Run(() => WitnessState.Open(folder.Path));
            var server = Run(() => WitnessServer.Create(options, new AddCheckpointHandler(state, cosigner, folder.Config.Logs), (folder, state)));
            await using (server.ConfigureAwait(false))
            {
                await server.StartAsync(ct).ConfigureAwait(false);
                Terminal.Result(string.Join(' ', server.Addresses));
                Terminal.Message($"witness {cosigner.Name} serving {folder.Config.Logs.Count} logs");
                await server.WaitForShutdownAsync(ct).ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static void PrintVkeys(WitnessFolder folder)
    {
        foreach (var vkey in folder.Config.Cosigners)
        {
            Terminal.Result(vkey);
        }
    }

    /// <summary>Runs a witness operation, turning its usage and in-use failures into the documented exit codes.</summary>
    private static T Run<T>(Func<T> operation)
    {
        try
        {
            return operation();
        }
        catch (Exception e) when (e is WitnessUsageException or ArgumentException or UriFormatException)
        {
            throw new CliException(e.Message, ExitCodes.Usage);
        }
        catch (FileLockBusyException e)
        {
            throw new CliException(e.Message, ExitCodes.InUse);
        }
    }

    private static void Run(Action operation) => Run(() =>
    {
        operation();
        return 0;
    });
}
