using System.CommandLine;
using System.Globalization;
using Sios.Brains.Engines;
using Sios.Brains.Integrity;
using Sios.Brains.Registry;
using Sios.Cli.Hosting;
using Sios.Node;
using Sios.Ledger.Pipeline;
using Sios.Ledger.Storage;
using Sios.Signing;
using Sios.Verify;

namespace Sios.Cli.Commands;

/// <summary><c>sios brain ...</c>: register, list, verify and remove brains; every change is sealed in the log.</summary>
internal static class BrainCommands
{
    public static Command Create() => new("brain", """
        The brains this machine serves: local models pinned by the SHA-256 of their weights, or OpenAI-compatible
        endpoints the operator hosts (upstreams). Adding and removing a brain is sealed in the Open Audit Record
        (brain.registered, brain.removed); a local brain whose weights changed is refused.
        """)
    {
        Add(), List(), Verify(), Remove(), BrainRunCommands.Synth(), BrainQuantizeCommand.Create(), BrainRunCommands.Run(), BrainRenderCommand.Create(),
    };

    private static Argument<string> NameArgument(string description) => new("NAME") { Description = description };

    private static Command Add()
    {
        var name = NameArgument("The brain's name: 1 to 64 of a-z 0-9 . _ -, starting with a letter or digit");
        var model = new Option<string?>("--model") { Description = "The GGUF model file (its digest is pinned now); or use --upstream", HelpName = "PATH" };
        var upstream = new Option<string?>("--upstream")
        {
            Description = "Instead of --model: the root URL of an OpenAI-compatible endpoint you host (llama-server, vLLM, Ollama), without /v1",
            HelpName = "URL",
        };
        var upstreamModel = new Option<string?>("--upstream-model") { Description = "With --upstream: the model id the endpoint serves (sealed with every answer)", HelpName = "ID" };
        var upstreamKeyEnv = new Option<string?>("--upstream-key-env")
        {
            Description = "With --upstream: the environment variable holding the endpoint's bearer token, read when the brain loads (the token is never stored)",
            HelpName = "VAR",
        };
        var adapter = new Option<string?>("--adapter") { Description = "A LoRA adapter file for the model (its digest is pinned now; local models only)", HelpName = "PATH" };
        var chatTemplate = new Option<string?>("--chat-template")
        {
            Description = "A chat template file (Jinja) to render with instead of the GGUF's own; its digest is pinned and sealed like the weights (local models only)",
            HelpName = "FILE",
        };
        var adapterScale = new Option<float?>("--adapter-scale") { Description = "How strongly the adapter applies, -10 to 10 (default 1)", HelpName = "F" };
        var description = new Option<string?>("--description") { Description = "What the brain is for (one line, sealed in the log)", HelpName = "T" };
        var systemPrompt = new Option<string?>("--system-prompt") { Description = "The system prompt (the log holds only its SHA-256)", HelpName = "TEXT" };
        var temperature = new Option<float?>("--temperature") { Description = "Default sampling temperature, 0 to 2", HelpName = "F" };
        var topP = new Option<float?>("--top-p") { Description = "Default nucleus sampling mass, above 0 up to 1", HelpName = "F" };
        var maxTokens = new Option<int?>("--max-tokens") { Description = "Default most tokens per answer", HelpName = "N" };
        var stop = new Option<string[]>("--stop") { Description = "A default stop sequence; repeat for more (up to 16)", HelpName = "S", AllowMultipleArgumentsPerToken = false };
        var seed = new Option<uint?>("--seed") { Description = "Default random seed, 0 to 4294967295", HelpName = "N" };
        var context = new Option<int?>("--context") { Description = "Context window in tokens, 64 to 1048576 (local models only)", HelpName = "N" };
        var threads = new Option<int?>("--threads") { Description = "CPU threads for generation, 1 to 1024 (local models only)", HelpName = "N" };
        var command = new Command("add", """
            Register a brain: hash the model (and adapter, and chat template file) and pin the digests, check that its
            chat template renders (naming any construct that does not), seal brain.registered, then save it
            in the data folder's brains.json. Prints the name and the model's digest (then the adapter's, if any).
            With --upstream URL --upstream-model ID instead of --model, the brain is answered by an endpoint you
            host; it has no local weights, so nothing is hashed: brain.registered records the URL and model id, and
            the command prints the name, the URL and the model id. Adding connects to nothing; answering reaches
            only hosts in the egress allow-list.
            While 'sios serve' runs on this data folder, the server does the registration (through its control
            socket), the next request for the name loads the brain, and the server seals a new attestation; an
            --upstream-key-env variable is then read from the server's environment, not this one's.
            Needs SIOS_KEY_PASSPHRASE.
            """)
        {
            name, model, upstream, upstreamModel, upstreamKeyEnv, adapter, adapterScale, chatTemplate, description, systemPrompt, temperature, topP, maxTokens,
            stop, seed, context, threads,
        };
        command.SetAction(async (parse, ct) =>
        {
            var draft = new BrainManifest
            {
                Name = parse.GetValue(name)!,
                Description = parse.GetValue(description) ?? "",
                ModelPath = parse.GetValue(model),
                Upstream = Upstream(parse.GetValue(model), parse.GetValue(upstream), parse.GetValue(upstreamModel), parse.GetValue(upstreamKeyEnv)),
                AdapterPath = parse.GetValue(adapter),
                AdapterScale = parse.GetValue(adapterScale),
                ChatTemplatePath = parse.GetValue(chatTemplate),
                SystemPrompt = parse.GetValue(systemPrompt),
                Sampling = new SamplingDefaults
                {
                    Temperature = parse.GetValue(temperature),
                    TopP = parse.GetValue(topP),
                    MaxTokens = parse.GetValue(maxTokens),
                    Stop = parse.GetValue(stop) ?? [],
                    Seed = parse.GetValue(seed),
                },
                ContextSize = parse.GetValue(context),
                Threads = parse.GetValue(threads),
            };
            var problems = draft.Problems(requirePins: false);
            if (problems.Count > 0)
            {
                throw new CliException(string.Join("; ", problems), ExitCodes.Usage);
            }

            var folder = CommonOptions.OpenData(parse);
            var passphrase = CommonOptions.Passphrase();
            var (log, inUse) = await ControlClient.OpenLogOrFindHolderAsync(folder, passphrase, ct).ConfigureAwait(false);
            if (log is null)
            {
                // The running server hashes the files, so it must be given paths that do not depend on our directory.
                var full = draft with
                {
                    ModelPath = draft.ModelPath is { } m ? Path.GetFullPath(m) : null,
                    AdapterPath = draft.AdapterPath is { } a ? Path.GetFullPath(a) : null,
                    ChatTemplatePath = draft.ChatTemplatePath is { } t ? Path.GetFullPath(t) : null,
                };
                using var control = new ControlClient(folder.ControlSocketPath);
                Terminal.Message("the log is held by the running server: asking it to register the brain (it hashes the weights; this may take a while)");
                var (served, attestation, problem) = await control.AskAsync(inUse!, c => c.AddBrainAsync(full, ct)).ConfigureAwait(false);
                Terminal.Result(Printed(served));
                Terminal.Message($"registered brain '{served.Name}' through the running server, which sealed brain.registered; {Attested(attestation, problem)}");
                return ExitCodes.Ok;
            }

            await using (log.ConfigureAwait(false))
            {
                var registry = folder.Brains(Sealer(log), folder.Authority(log, passphrase));
                using var progress = new HashProgressBars();
                var pinned = await Registry(() => registry.AddAsync(draft, progress, ct)).ConfigureAwait(false);
                Terminal.Result(Printed(pinned));
                Terminal.Message($"registered brain '{pinned.Name}' and sealed brain.registered");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command List()
    {
        var json = new Option<bool>("--json") { Description = "Print the full manifests as a JSON array" };
        var command = new Command("list", """
            List the registered brains, one per line: name, model digest, adapter digest (or -), description,
            separated by tabs. An upstream brain shows its URL, a space and its model id where a local brain shows
            its model digest. No passphrase needed.
            """) { json };
        command.SetAction(async (parse, ct) =>
        {
            var folder = CommonOptions.OpenData(parse);
            var brains = await Registry(() => folder.WithStateCheckAsync(authority => folder.Brains(authority: authority).List(), ct)).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                Terminal.Result(BrainRegistry.ToJson(brains));
                return ExitCodes.Ok;
            }

            foreach (var brain in brains)
            {
                var weights = brain.Upstream is { } remote ? $"{remote.Url.AbsoluteUri} {remote.Model}" : brain.ModelSha256;
                Terminal.Result($"{brain.Name}\t{weights}\t{brain.AdapterSha256 ?? "-"}\t{brain.Description}");
            }

            if (brains.Count == 0)
            {
                Terminal.Message("no brains registered; add one with 'sios brain add NAME --model FILE' (or --upstream URL --upstream-model ID)");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Verify()
    {
        var name = new Argument<string?>("NAME") { Description = "The brain to verify (default: all)", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("verify", """
            Re-hash the weights of one brain, or all, against their pinned digests. Prints one line per brain:
            its name, then ok or MISMATCH. A mismatch is explained on stderr (the file and both digests) and sealed
            as brain.refused when SIOS_KEY_PASSPHRASE is set and the log is free; otherwise says it was not sealed.
            An upstream brain has no local weights to verify: its line says upstream, which is not a failure.
            Exit codes: 0 all match, 1 a mismatch or missing weight file, 3 could not run.
            """) { name };
        command.SetAction(async (parse, ct) =>
        {
            var folder = CommonOptions.OpenData(parse);
            var only = parse.GetValue(name);
            var brains = await Registry(() => folder.WithStateCheckAsync<IReadOnlyList<BrainManifest>>(authority =>
            {
                var registry = folder.Brains(authority: authority);
                return only is null ? registry.List() : [registry.Get(only)];
            }, ct)).ConfigureAwait(false);
            if (brains.Count == 0)
            {
                Terminal.Message("no brains registered; nothing to verify");
                return ExitCodes.Ok;
            }

            IReadOnlyList<WeightCheck> checks;
            using (var progress = new HashProgressBars())
            {
                checks = await BrainRegistry.CheckWeightsAsync(brains, progress, ct).ConfigureAwait(false);
            }

            var refused = new List<(BrainManifest Brain, WeightMismatchException Mismatch)>();
            foreach (var check in checks)
            {
                if (check.NothingToVerify)
                {
                    Terminal.Result($"{check.Brain.Name}\tupstream");
                    Terminal.Message($"brain '{check.Brain.Name}' is answered by the upstream {check.Brain.Upstream!.Url.AbsoluteUri} (model {check.Brain.Upstream.Model}); it has no local weights to verify");
                }
                else if (check.Mismatch is { } mismatch)
                {
                    refused.Add((check.Brain, mismatch));
                    Terminal.Result($"{check.Brain.Name}\tMISMATCH");
                    Terminal.Message($"MISMATCH: brain '{check.Brain.Name}': {mismatch.Message}");
                }
                else
                {
                    Terminal.Result($"{check.Brain.Name}\tok");
                }
            }

            if (refused.Count == 0)
            {
                var local = checks.Count(c => !c.NothingToVerify);
                Terminal.Message(local == 0
                    ? "ok: no brain here has local weights to verify"
                    : $"ok: the weights of {local} brain{(local == 1 ? "" : "s")} match their pinned digests");
                return ExitCodes.Ok;
            }

            await SealRefusalsAsync(folder, refused, ct).ConfigureAwait(false);
            return ExitCodes.Invalid;
        });
        return command;
    }

    private static Command Remove()
    {
        var name = NameArgument("The brain to remove");
        var command = new Command("remove", """
            Remove a brain from brains.json, then seal brain.removed. The weight files are not touched.
            Prints the name. While 'sios serve' runs, the server does it (no request reaches the brain from then on)
            and seals a new attestation. Needs SIOS_KEY_PASSPHRASE.
            """) { name };
        command.SetAction(async (parse, ct) =>
        {
            var folder = CommonOptions.OpenData(parse);
            var brain = parse.GetValue(name)!;
            var passphrase = CommonOptions.Passphrase();
            var (log, inUse) = await ControlClient.OpenLogOrFindHolderAsync(folder, passphrase, ct).ConfigureAwait(false);
            if (log is null)
            {
                using var control = new ControlClient(folder.ControlSocketPath);
                var (attestation, problem) = await control.AskAsync(inUse!, c => c.RemoveBrainAsync(brain, ct)).ConfigureAwait(false);
                Terminal.Result(brain);
                Terminal.Message($"removed brain '{brain}' through the running server, which sealed brain.removed; {Attested(attestation, problem)}");
                return ExitCodes.Ok;
            }

            await using (log.ConfigureAwait(false))
            {
                var removed = await Registry(() => folder.Brains(Sealer(log), folder.Authority(log, passphrase)).RemoveAsync(brain, ct)).ConfigureAwait(false);
                Terminal.Result(removed.Name);
                Terminal.Message($"removed brain '{removed.Name}' and sealed brain.removed");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The upstream of a brain being added, or null for a local one; refuses a mix of the two kinds of option.</summary>
    private static UpstreamBrain? Upstream(string? model, string? url, string? upstreamModel, string? keyEnv)
    {
        if (url is null)
        {
            if (upstreamModel is not null || keyEnv is not null)
            {
                throw new CliException("--upstream-model and --upstream-key-env go with --upstream URL", ExitCodes.Usage);
            }

            return model is null
                ? throw new CliException("say what answers for the brain: --model FILE for a local model, or --upstream URL --upstream-model ID for an endpoint you host", ExitCodes.Usage)
                : null;
        }

        if (model is not null)
        {
            throw new CliException("--model and --upstream are mutually exclusive: a brain runs either a local model file or an upstream endpoint", ExitCodes.Usage);
        }

        if (upstreamModel is null)
        {
            throw new CliException("--upstream needs --upstream-model ID, the model id the endpoint serves", ExitCodes.Usage);
        }

        return Uri.TryCreate(url, UriKind.Absolute, out var parsed)
            ? new UpstreamBrain { Url = parsed, Model = upstreamModel, ApiKeyEnv = keyEnv }
            : throw new CliException($"the upstream URL must be an absolute http or https URL (got '{url}')", ExitCodes.Usage);
    }

    private static EntrySealer Sealer(TransparencyLog log) => (entry, ct) => log.AppendAsync(entry, ct);

    /// <summary>What <c>brain add</c> prints: the name, then the digests, or the upstream's URL and model id.</summary>
    private static string Printed(BrainManifest brain) =>
        string.Join(' ', new[] { brain.Name, brain.ModelSha256, brain.AdapterSha256, brain.Upstream?.Url.AbsoluteUri, brain.Upstream?.Model }.OfType<string>());

    private static string Attested(long? attestation, string? problem) => attestation is { } index
        ? $"the server sealed a new attestation as entry {index.ToString(CultureInfo.InvariantCulture)}"
        : $"WARNING: the server sealed no new attestation ({problem ?? "it makes none"}); the next start of serve will";

    /// <summary>Seals a brain.refused per mismatch if it can; a verify that cannot seal still reports, and says so.</summary>
    private static async Task SealRefusalsAsync(DataFolder folder, List<(BrainManifest Brain, WeightMismatchException Mismatch)> refused, CancellationToken ct)
    {
        string passphrase;
        try
        {
            passphrase = KeyPassphrase.FromEnvironment();
        }
        catch (KeyPassphraseException e)
        {
            Terminal.Message($"the refusal{(refused.Count == 1 ? " was" : "s were")} NOT sealed: {e.Message}");
            return;
        }

        TransparencyLog log;
        try
        {
            log = await folder.OpenLogAsync(passphrase, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is CliException or NodeException or LogInUseException or LogIntegrityException or IOException)
        {
            Terminal.Message($"the refusal{(refused.Count == 1 ? " was" : "s were")} NOT sealed: {e.Message}");
            return;
        }

        await using (log.ConfigureAwait(false))
        {
            foreach (var (brain, mismatch) in refused)
            {
                var result = await log.AppendAsync(BrainEntries.Refused(brain.Name, mismatch, BrainEntries.Operator), ct).ConfigureAwait(false);
                Terminal.Message($"sealed brain.refused for '{brain.Name}' as entry {result.Index.ToString(CultureInfo.InvariantCulture)}");
            }
        }
    }

    /// <summary>Turns the registry's typed failures into the CLI's exit codes.</summary>
    private static async Task<T> Registry<T>(Func<Task<T>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (BrainManifestException e)
        {
            throw new CliException(e.Message, ExitCodes.Usage);
        }
        catch (ModelLoadException e)
        {
            // A path that is not a model or not an adapter for it: a bad argument, refused before anything is sealed.
            throw new CliException(e.Message, ExitCodes.Usage);
        }
        catch (BrainRegistryException e)
        {
            throw new CliException(e.Message);
        }
        catch (FormatViolationException e)
        {
            throw new CliException(e.Message);
        }
        catch (WeightMismatchException e)
        {
            throw new CliException(e.Message, ExitCodes.Invalid);
        }
    }
}

/// <summary>One progress bar per large weight file being hashed, on stderr when it is a terminal.</summary>
internal sealed class HashProgressBars : IProgress<HashProgress>, IDisposable
{
    /// <summary>Smaller files hash in well under a second: a bar would only flicker.</summary>
    private const long MinimumLength = 64L << 20;

    private string? _file;
    private long _hashed;
    private ProgressBar? _bar;

    public void Report(HashProgress value)
    {
        if (!string.Equals(value.File, _file, StringComparison.Ordinal) || value.Hashed < _hashed)
        {
            _bar?.Dispose();
            _bar = null;
            _file = value.File;
            if (value.Length >= MinimumLength && !Console.IsErrorRedirected)
            {
                Terminal.Message($"hashing {value.File}");
                _bar = new ProgressBar(value.Length, "bytes");
            }
        }

        _hashed = value.Hashed;
        _bar?.Report(value.Hashed);
    }

    public void Dispose() => _bar?.Dispose();
}
