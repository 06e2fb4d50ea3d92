using System.CommandLine;
using System.Globalization;
using Sios.Brains.Registry;
using Sios.Brains.Synth;
using Sios.Cli.Hosting;
using Sios.Ledger.Entries;
using Sios.Ledger.Proofs;
using Sios.Verify.Receipts;

namespace Sios.Cli.Commands;

/// <summary><c>sios demo</c>: a first run for a new user, on an embedded SQLite log in ./sios-demo.</summary>
internal static class DemoCommand
{
    public const string Origin = "demo.sios.local/log";
    public const string DemoPassphrase = "sios-demo-passphrase";
    public const string DemoBrain = "demo";

    public static Command Create()
    {
        var folder = new Option<string>("--dir") { Description = "The demo data folder", DefaultValueFactory = _ => "sios-demo", HelpName = "DIR" };
        var command = new Command("demo", $"""
            A first run: creates ./sios-demo if absent (origin {Origin}, ML-DSA keys encrypted with the demo passphrase
            '{DemoPassphrase}' unless SIOS_KEY_PASSPHRASE is set), seals a note into the Open Audit Record, writes
            its receipt, verifies it offline with nothing but the vkeys, and shows the commands to try next.
            Prints the demo folder's path on stdout.
            """) { folder };
        command.SetAction(async (parse, ct) =>
        {
            var path = Path.GetFullPath(parse.GetValue(folder)!);
            var passphrase = Environment.GetEnvironmentVariable("SIOS_KEY_PASSPHRASE") is { Length: > 0 } set ? set : DemoPassphrase;
            DataFolder data;
            if (File.Exists(Path.Combine(path, "sios.json")))
            {
                data = DataFolder.Open(path);
                Terminal.Message($"Using the existing demo folder {path}.");
            }
            else
            {
                Terminal.Message($"Creating {path} (origin {Origin}); its keys are encrypted with the passphrase '{passphrase}'.");
                data = await DataFolder.InitAsync(path, Origin, passphrase, ct).ConfigureAwait(false);
            }

            var (entry, _) = EntryWriter.Write("operator.note", "operator", json => json.WriteString("text", "Hello from the SIOS demo."));
            long index;
            var log = await data.OpenLogAsync(passphrase, ct).ConfigureAwait(false);
            await using (log.ConfigureAwait(false))
            {
                index = (await log.AppendAsync(entry, ct).ConfigureAwait(false)).Index;
                await AskDemoBrainAsync(path, (e, t) => log.AppendAsync(e, t), ct).ConfigureAwait(false);
            }

            var vkeys = data.LoadVerifierKeys();
            byte[] receipt;
            await using (var store = data.OpenReader())
            {
                receipt = await LogProofs.ReceiptAsync(store, index, ct).ConfigureAwait(false);
            }

            var receiptFile = Path.Combine(path, $"receipt-{index}.tlog-proof");
            await File.WriteAllBytesAsync(receiptFile, receipt, ct).ConfigureAwait(false);
            var verified = new ReceiptVerifier(vkeys).Verify(receipt);
            var i = index.ToString(CultureInfo.InvariantCulture);
            Terminal.Message($"""

                Sealed entry {i}; its receipt is {receiptFile}
                It verified offline: entry {verified.Index} is in {verified.Checkpoint.Checkpoint.Origin} at tree size {verified.Checkpoint.Checkpoint.Size}, signed with ML-DSA-65 and cosigned with ML-DSA-44.

                Try next (add --data {path} to each):
                  sios key vkeys                      the log's public keys, to hand to an auditor
                  sios log checkpoint                 the latest signed checkpoint
                  sios log receipt {i}                  the receipt again
                  sios verify receipt {receiptFile} $(sios key vkeys --data {path} | sed 's/^/--vkey /')
                  sios log verify                     audit the whole log
                  sios brain list                     the brains, pinned by the SHA-256 of their weights
                  SIOS_KEY_PASSPHRASE='{passphrase}' sios brain run {DemoBrain} --prompt "Hello"
                  SIOS_KEY_PASSPHRASE='{passphrase}' sios log note "your text"
                """);
            Terminal.Result(path);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Generates and registers the demo brain on first use (sealed), then asks it one question (load sealed).</summary>
    private static async Task AskDemoBrainAsync(string path, EntrySealer sealer, CancellationToken ct)
    {
        var registry = new BrainRegistry(path, sealer);
        if (registry.Find(DemoBrain) is null)
        {
            var model = Path.Combine(path, "brains", "demo-base.gguf");
            Directory.CreateDirectory(Path.GetDirectoryName(model)!);
            TinyModelSynth.WriteModel(model, new TinyModelOptions { Seed = 2026 });
            var added = await registry.AddAsync(new BrainManifest
            {
                Name = DemoBrain,
                Description = "generated demo brain (random weights: it babbles, but through real llama.cpp inference)",
                ModelPath = model,
                Sampling = new SamplingDefaults { MaxTokens = 32 },
            }, cancellationToken: ct).ConfigureAwait(false);
            Terminal.Message($"Generated a tiny demo model and registered brain '{DemoBrain}' pinned at {added.ModelSha256}.");
        }

        var pool = BrainRunCommands.SingleBrainPool(registry, sealer);
        await using (pool.ConfigureAwait(false))
        {
            Terminal.Message($"Asking brain '{DemoBrain}' (its weights re-hashed and the load sealed first):");
            using var stderr = Console.OpenStandardError();
            var request = BrainRunCommands.Request(registry.Get(DemoBrain), "Hello, who holds the record?", null, null, null, null, 7, null);
            await BrainRunCommands.AnswerAsync(pool, DemoBrain, request, stderr, ct).ConfigureAwait(false);
        }
    }
}
