using System.CommandLine;
using Microsoft.Extensions.Logging;
using Sios.Brains.Pool;
using Sios.Brains.Registry;
using Sios.Brains.Synth;
using Sios.Cli.Hosting;
using Sios.Node;
using Sios.Ledger.Entries;
using Sios.Server.Access;
using Sios.Server.Control;
using Sios.Server.Hosting;

namespace Sios.Cli.Commands;

/// <summary><c>sios demo</c>: a first run for a new user: a ready data folder (--data, default ./sios-demo), served at once.</summary>
internal static class DemoCommand
{
    public const string Origin = "demo.sios.local/log";
    public const string DemoPassphrase = "sios-demo-passphrase";
    public const string BaseBrain = "demo";

    /// <summary>The demo's tool-capable brain: a tiny model carrying a Hermes-style template and its special tokens.</summary>
    public const string ToolBrain = "demo-tools";
    public const string KeyName = "demo";

    /// <summary>The demo's data folder when --data is not given.</summary>
    public const string DefaultFolder = "sios-demo";

    /// <summary>The demo keeps answered content for 30 days, so 'sios log disclose' has something to show.</summary>
    public const int VaultRetentionDays = 30;

    /// <summary>The three LoRA specialists on the demo base, with what they pretend to know.</summary>
    public static readonly (string Name, string Description, ulong Seed)[] Specialists =
    [
        ("clinical", "LoRA specialist for clinical notes (random weights: it babbles)", 11),
        ("contracts", "LoRA specialist for contracts (random weights: it babbles)", 12),
        ("ledger", "LoRA specialist for bookkeeping (random weights: it babbles)", 13),
    ];

    /// <summary>
    /// Where the demo keeps its API key in clear, so each run can print it again. Only the demo does this (a real
    /// deployment sees a key once, at creation, and stores only its hash).
    /// </summary>
    public const string KeyFile = "demo-api-key.txt";

    public static Command Create()
    {
        var urls = new Option<string>("--urls") { Description = $"Where to serve (default {SiosServerOptions.DefaultUrl}; port 0 picks a free one)", HelpName = "URL" };
        var noServe = new Option<bool>("--no-serve") { Description = "Set the folder up and exit without serving; prints the folder's path" };
        var store = new Option<string>("--store")
        {
            Description = "For a new folder: keep its log in PostgreSQL (postgres://[USER@]HOST[:PORT]/DATABASE[?schema=NAME], as for 'sios init --store'); copy the folder to run a second node on the same log",
            HelpName = "URL",
        };
        var command = new Command("demo", $"""
            A first run: creates the data folder if absent (--data DIR; for the demo the default is ./{DefaultFolder}) (origin {Origin}, keys encrypted with the demo passphrase
            '{DemoPassphrase}' unless SIOS_KEY_PASSPHRASE is set, a generated base model registered as brain
            '{BaseBrain}' and three LoRA specialists on it: {string.Join(", ", Specialists.Select(s => s.Name))}, and one
            admin API key), then serves it: prints the URL, the key and a curl line to try. Every answer is sealed
            into the Open Audit Record and comes with a receipt. Ctrl+C stops. Prints the URL on stdout once serving
            (with --no-serve, the folder's path).
            """) { urls, noServe, store };
        command.SetAction(async (parse, ct) =>
        {
            // --data names the folder, as for every command; only its default differs, so a demo never lands in ./sios-data.
            var path = Path.GetFullPath(parse.GetResult(CommonOptions.Data) is { Implicit: false } ? parse.GetValue(CommonOptions.Data)! : DefaultFolder);
            var passphrase = Environment.GetEnvironmentVariable("SIOS_KEY_PASSPHRASE") is { Length: > 0 } set ? set : DemoPassphrase;
            var storeUrl = parse.GetValue(store);
            if (storeUrl is not null)
            {
                _ = LogStores.ParsePostgres(storeUrl);
            }

            var data = await SetUpAsync(path, passphrase, storeUrl, ct).ConfigureAwait(false);
            var key = (await File.ReadAllTextAsync(Path.Combine(path, KeyFile), ct).ConfigureAwait(false)).Trim();
            if (parse.GetValue(noServe))
            {
                Terminal.Message($"The demo folder is ready; its API key is {key}");
                Terminal.Result(path);
                return ExitCodes.Ok;
            }

            var settings = new ServeSettings(
                new SiosServerOptions { Urls = [parse.GetValue(urls) ?? SiosServerOptions.DefaultUrl], ControlSocketPath = data.ControlSocketPath },
                new BrainPoolOptions { MaxLoaded = 4, MemoryBudgetBytes = 1L << 30 },
                LogLevel.Warning);
            await NodeHost.ServeAsync(data, passphrase, settings, server => Banner(server, path, key, passphrase), ct).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static void Banner(SiosServer server, string path, string key, string passphrase)
    {
        var url = server.Addresses.First(a => a.StartsWith("http://", StringComparison.Ordinal));
        Terminal.Message($$"""

            SIOS demo serving at {{url}}  (data folder {{path}}, passphrase '{{passphrase}}')
            API key (admin, all brains): {{key}}

            Try it:
              curl -si {{url}}/v1/chat/completions -H "Authorization: Bearer {{key}}" -H "Content-Type: application/json" \
                -d '{"model":"clinical","messages":[{"role":"user","content":"Hello"}],"max_tokens":16}'

            The Sios-Log-Index header is where the answer was sealed; fetch and verify its receipt offline:
              curl -s {{url}}/log/receipts/N -H "Authorization: Bearer {{key}}" > answer.tlog-proof
              sios verify receipt answer.tlog-proof $(sios key vkeys --data {{path}} | sed 's/^/--vkey /')

            Brains: {{BaseBrain}}, {{ToolBrain}}, {{string.Join(", ", Specialists.Select(s => s.Name))}} (GET {{url}}/v1/models). Ctrl+C stops and seals system.stopped.
            """);
        Terminal.Result(url);
    }

    /// <summary>Creates the demo folder, its brains and its key on first use; later runs reuse them.</summary>
    private static async Task<DataFolder> SetUpAsync(string path, string passphrase, string? store, CancellationToken ct)
    {
        DataFolder data;
        if (File.Exists(Path.Combine(path, "sios.json")))
        {
            data = DataFolder.Open(path);
            if (store is not null && !string.Equals(store, data.Config.Store, StringComparison.Ordinal))
            {
                throw new CliException($"--store applies to a new demo folder; {path} exists and keeps its log {(data.Config.Store is null ? "in log/log.db" : "elsewhere")}", ExitCodes.Usage);
            }

            Terminal.Message($"Using the existing demo folder {path}.");
        }
        else
        {
            Terminal.Message($"Creating {path} (origin {Origin}); its keys are encrypted with the passphrase '{passphrase}'.");
            data = await DataFolder.InitAsync(path, Origin, passphrase, ct, VaultRetentionDays, store: store).ConfigureAwait(false);
        }

        if (File.Exists(Path.Combine(path, KeyFile)))
        {
            return data;
        }

        var log = await data.OpenLogAsync(passphrase, ct).ConfigureAwait(false);
        await using (log.ConfigureAwait(false))
        {
            EntrySealer sealer = (entry, token) => log.AppendAsync(entry, token);
            var authority = data.Authority(log, passphrase);
            var registry = data.Brains(sealer, authority);
            var brains = Path.Combine(path, "brains");
            Directory.CreateDirectory(brains);
            var model = Path.Combine(brains, "demo-base.gguf");
            if (registry.Find(BaseBrain) is null)
            {
                TinyModelSynth.WriteModel(model, new TinyModelOptions { Seed = 2026 });
                await registry.AddAsync(new BrainManifest
                {
                    Name = BaseBrain,
                    Description = "generated demo base model (random weights: it babbles, but through real llama.cpp inference)",
                    ModelPath = model,
                    Sampling = new SamplingDefaults { MaxTokens = 32 },
                }, cancellationToken: ct).ConfigureAwait(false);
            }

            if (registry.Find(ToolBrain) is null)
            {
                var tools = Path.Combine(brains, "demo-tools.gguf");
                // One token per byte: tool definitions and their instructions alone are a couple of thousand tokens.
                TinyModelSynth.WriteModel(tools, new TinyModelOptions { Seed = 2027, Template = ToolTemplate.HermesChatMl, Context = 8192 });
                await registry.AddAsync(new BrainManifest
                {
                    Name = ToolBrain,
                    Description = "generated demo model with a tool-calling chat template (Hermes convention): with tool_choice 'required' or a named tool its answer is a valid call",
                    ModelPath = tools,
                    ContextSize = 8192,
                    Sampling = new SamplingDefaults { MaxTokens = 256 },
                }, cancellationToken: ct).ConfigureAwait(false);
            }

            foreach (var (name, description, seed) in Specialists.Where(s => registry.Find(s.Name) is null))
            {
                var adapter = Path.Combine(brains, $"{name}.lora.gguf");
                TinyModelSynth.WriteLoraAdapter(adapter, model, new LoraOptions { Seed = seed });
                await registry.AddAsync(new BrainManifest
                {
                    Name = name,
                    Description = description,
                    ModelPath = model,
                    AdapterPath = adapter,
                    Sampling = new SamplingDefaults { MaxTokens = 32 },
                }, cancellationToken: ct).ConfigureAwait(false);
            }

            Terminal.Message($"Generated a tiny base model, a tool-calling model and three LoRA specialists; registered brains {BaseBrain}, {ToolBrain}, {string.Join(", ", Specialists.Select(s => s.Name))} (weights pinned by SHA-256).");
            var keys = data.ApiKeys(authority);
            var actions = new OperatorActions(log, keys);
            if (keys.Find(KeyName) is not null)
            {
                // A key made by a run that died before saving its secret: nobody can use it, so it is revoked (sealed).
                await actions.RevokeKeyAsync(KeyName, ct).ConfigureAwait(false);
            }

            var secret = (await actions.CreateKeyAsync(KeyName, ApiKeyRole.Admin, ["*"], null, null, ct).ConfigureAwait(false)).Secret;
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            await using (var file = new FileStream(Path.Combine(path, KeyFile), options))
            {
                await file.WriteAsync(System.Text.Encoding.UTF8.GetBytes(secret + "\n"), ct).ConfigureAwait(false);
            }

            Terminal.Message($"Created the admin API key '{KeyName}' (sealed as key.created).");
        }

        return data;
    }
}
