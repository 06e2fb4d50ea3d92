using System.CommandLine;
using System.Globalization;
using Sios.Brains.Engines;
using Sios.Brains.Integrity;
using Sios.Brains.Pool;
using Sios.Brains.Registry;
using Sios.Brains.Synth;
using Sios.Brains.Upstream;
using Sios.Cli.Hosting;
using Sios.Node;
using Sios.Verify;

namespace Sios.Cli.Commands;

/// <summary><c>sios brain synth</c> and <c>sios brain run</c>: make tiny offline models, and answer a prompt with a brain.</summary>
internal static class BrainRunCommands
{
    public static Command Synth()
    {
        var output = new Option<string>("--out") { Description = "The file to write", Required = true, HelpName = "FILE" };
        var layers = new Option<int?>("--layers") { Description = "Transformer blocks (default 2)", HelpName = "N" };
        var embd = new Option<int?>("--embd") { Description = "Width of the residual stream (default 64)", HelpName = "N" };
        var heads = new Option<int?>("--heads") { Description = "Attention heads; must divide --embd (default 4)", HelpName = "N" };
        var ff = new Option<int?>("--ff") { Description = "Feed-forward width (default 128)", HelpName = "N" };
        var context = new Option<int?>("--context") { Description = "Trained context length in tokens (default 512)", HelpName = "N" };
        var seed = new Option<ulong?>("--seed") { Description = "Seed of the random weights; the same options give the same file (default 1)", HelpName = "N" };
        var f16 = new Option<bool>("--f16") { Description = "Store the matrices as f16 instead of f32" };
        var loraOf = new Option<string?>("--lora-of") { Description = "Write a LoRA adapter for this base model instead of a model", HelpName = "BASE" };
        var rank = new Option<int?>("--rank") { Description = "LoRA rank, with --lora-of (default 4)", HelpName = "N" };
        var alpha = new Option<float?>("--alpha") { Description = "LoRA alpha, with --lora-of (default 8)", HelpName = "F" };
        var template = new Option<string?>("--template")
        {
            Description = "Store this chat template (a Jinja file, e.g. a real model's) instead of ChatML; its special tokens (<|...|>, <tag>, [TAG]) join the vocabulary",
            HelpName = "FILE",
        };
        var command = new Command("synth", """
            Write a tiny llama-architecture GGUF model with random weights, a byte-level vocabulary and the ChatML
            chat template (or --template FILE with its special tokens), or (with --lora-of) a LoRA adapter for such a
            model. No real weights are needed: tests and demos run on these, through the same loading code as a real
            model. Prints the file's sha256: digest.
            """)
        {
            output, layers, embd, heads, ff, context, seed, f16, loraOf, rank, alpha, template,
        };
        command.SetAction(async (parse, ct) =>
        {
            var path = Path.GetFullPath(parse.GetValue(output)!);
            var basePath = parse.GetValue(loraOf);
            try
            {
                if (basePath is null)
                {
                    RefuseWith(parse, "--rank and --alpha apply to an adapter; add --lora-of BASE", rank, alpha);
                    var defaults = new TinyModelOptions();
                    var headCount = parse.GetValue(heads) ?? defaults.Heads;
                    TinyModelSynth.WriteModel(path, new TinyModelOptions
                    {
                        Layers = parse.GetValue(layers) ?? defaults.Layers,
                        Embedding = parse.GetValue(embd) ?? defaults.Embedding,
                        Heads = headCount,
                        KvHeads = headCount,
                        FeedForward = parse.GetValue(ff) ?? defaults.FeedForward,
                        Context = parse.GetValue(context) ?? defaults.Context,
                        Seed = parse.GetValue(seed) ?? defaults.Seed,
                        F16 = parse.GetValue(f16),
                        Template = parse.GetValue(template) is { } file ? ReadTemplate(file) : null,
                    });
                }
                else
                {
                    RefuseWith(parse, "an adapter takes its shape from the base; --layers, --embd, --heads, --ff, --context and --f16 apply to a model", layers, embd, heads, ff, context);
                    RefuseWith(parse, "an adapter takes its template from the base; --template applies to a model", template);
                    if (parse.GetValue(f16))
                    {
                        throw new CliException("an adapter takes its shape from the base; --f16 applies to a model", ExitCodes.Usage);
                    }

                    var defaults = new LoraOptions();
                    TinyModelSynth.WriteLoraAdapter(path, Path.GetFullPath(basePath), new LoraOptions
                    {
                        Rank = parse.GetValue(rank) ?? defaults.Rank,
                        Alpha = parse.GetValue(alpha) ?? defaults.Alpha,
                        Seed = parse.GetValue(seed) ?? defaults.Seed,
                    });
                }
            }
            catch (ArgumentException e)
            {
                // The options' own rule, without .NET's "(Parameter 'x')" suffix, which names a property, not a flag.
                throw new CliException(e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal), ExitCodes.Usage);
            }
            catch (FormatViolationException e)
            {
                throw new CliException($"cannot make an adapter for {basePath}: {e.Message}");
            }
            catch (FileNotFoundException e)
            {
                throw new CliException($"the base model {e.FileName ?? basePath} does not exist");
            }

            Terminal.Result(await WeightDigest.ComputeAsync(path, cancellationToken: ct).ConfigureAwait(false));
            Terminal.Message($"wrote {(basePath is null ? "model" : "LoRA adapter")} {path}");
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Run()
    {
        var name = new Argument<string>("NAME") { Description = "The registered brain to ask" };
        var prompt = new Option<string>("--prompt") { Description = "The user's message", Required = true, HelpName = "TEXT" };
        var system = new Option<string?>("--system") { Description = "A system prompt instead of the brain's own", HelpName = "TEXT" };
        var maxTokens = new Option<int?>("--max-tokens") { Description = "Most tokens to generate (default: the brain's, else 256)", HelpName = "N" };
        var temperature = new Option<float?>("--temperature") { Description = "Sampling temperature, 0 (greedy) to 2", HelpName = "F" };
        var topP = new Option<float?>("--top-p") { Description = "Nucleus sampling mass, above 0 up to 1", HelpName = "F" };
        var seed = new Option<uint?>("--seed") { Description = "Sampling seed, for a reproducible answer", HelpName = "N" };
        var stop = new Option<string[]>("--stop") { Description = "A stop sequence; repeat for more (replaces the brain's)", HelpName = "S", AllowMultipleArgumentsPerToken = false };
        var egress = new Option<string[]>("--egress")
        {
            Description = "A host name or IP address an upstream brain may be reached at; repeat for more (default: none, so an upstream brain is refused)",
            HelpName = "HOST",
            AllowMultipleArgumentsPerToken = false,
        };
        var command = new Command("run", """
            Answer one prompt with a brain, in this process (offline, for a local brain). The brain is loaded
            through the load guard: its weights are re-hashed against their pinned digests, and the load is sealed
            (brain.loaded) before it answers; a brain whose weights changed is refused, the refusal sealed (brain.refused), and the command
            exits 1 naming the file. The prompt is rendered with the model's chat template; the answer streams to
            stdout, then the finish reason and token counts go to stderr. Settings not given come from the brain's
            registration. Needs SIOS_KEY_PASSPHRASE. Sealing each answer as an inference entry (with commitments to
            the prompt and answer) comes with the gateway; this command does not seal answers yet.
            An upstream brain is asked over the network instead, and only if --egress allows its host; nothing is
            hashed, and its brain.loaded names the URL and model id.
            Exit codes: 0 answered, 1 refused (weights changed), 2 usage, 3 could not run (an upstream refused by
            the egress allow-list, unreachable or failing included).
            """)
        {
            name, prompt, system, maxTokens, temperature, topP, seed, stop, egress,
        };
        command.SetAction(async (parse, ct) =>
        {
            var given = new SamplingDefaults
            {
                Temperature = parse.GetValue(temperature), TopP = parse.GetValue(topP), MaxTokens = parse.GetValue(maxTokens), Stop = parse.GetValue(stop) ?? [],
            }.Problems();
            if (given.Count > 0)
            {
                throw new CliException(string.Join("; ", given), ExitCodes.Usage);
            }

            EgressAllowList allowList;
            try
            {
                allowList = new EgressAllowList(parse.GetValue(egress) ?? []);
            }
            catch (ArgumentException e)
            {
                throw new CliException(e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal), ExitCodes.Usage);
            }

            var folder = CommonOptions.OpenData(parse);
            var brainName = parse.GetValue(name)!;
            var passphrase = CommonOptions.Passphrase();
            BrainManifest brain;
            try
            {
                brain = await folder.WithStateCheckAsync(authority => folder.Brains(authority: authority).Get(brainName), ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is BrainRegistryException or FormatViolationException)
            {
                throw new CliException(e.Message);
            }

            var request = Request(brain, parse.GetValue(prompt)!, parse.GetValue(system), parse.GetValue(maxTokens),
                parse.GetValue(temperature), parse.GetValue(topP), parse.GetValue(seed), parse.GetValue(stop));
            var log = await folder.OpenLogAsync(passphrase, ct).ConfigureAwait(false);
            await using (log.ConfigureAwait(false))
            {
                EntrySealer sealer = (entry, token) => log.AppendAsync(entry, token);
                var registry = folder.Brains(authority: folder.Authority(log, passphrase));
                var pool = SingleBrainPool(registry, sealer, allowList);
                await using (pool.ConfigureAwait(false))
                {
                    using var stdout = Console.OpenStandardOutput();
                    await AnswerAsync(pool, brainName, request, stdout, ct).ConfigureAwait(false);
                }
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Streams one answer from <paramref name="brain"/> to <paramref name="output"/>; usage goes to stderr.</summary>
    internal static async Task AnswerAsync(BrainPool pool, string brain, ChatRequest request, Stream output, CancellationToken ct)
    {
        BrainLease lease;
        try
        {
            lease = await pool.AcquireAsync(brain, ct).ConfigureAwait(false);
        }
        catch (BrainLoadException e) when (e.Refused)
        {
            throw new CliException($"refused: {e.InnerException!.Message}; the refusal was sealed as brain.refused", ExitCodes.Invalid);
        }
        catch (BrainLoadException e) when (e.EgressRefused)
        {
            throw new CliException($"{e.Message} (sios brain run takes it as --egress HOST)");
        }
        catch (BrainLoadException e)
        {
            throw new CliException(e.Message);
        }

        await using (lease.ConfigureAwait(false))
        {
            var stdout = output;
            GenerationUpdate? final = null;
            try
            {
                await foreach (var update in lease.Engine.GenerateAsync(request, ct).ConfigureAwait(false))
                {
                    if (update.Text.Length > 0)
                    {
                        var bytes = System.Text.Encoding.UTF8.GetBytes(update.Text);
                        await stdout.WriteAsync(bytes, ct).ConfigureAwait(false);
                        await stdout.FlushAsync(ct).ConfigureAwait(false);
                    }

                    final = update.IsFinal ? update : final;
                }
            }
            catch (Exception e) when (e is MissingChatTemplateException or ChatTemplateRefusedException or ContextWindowExceededException or InferenceException or UpstreamException or EgressRefusedException)
            {
                throw new CliException(e.Message);
            }

            await stdout.WriteAsync("\n"u8.ToArray(), ct).ConfigureAwait(false);
            var finish = $"finish_reason: {(final!.FinishReason == FinishReason.Stop ? "stop" : "length")}";
            // An upstream need not report token counts; llama.cpp always does.
            Terminal.Message(final.Usage is { } usage
                ? string.Create(CultureInfo.InvariantCulture, $"{finish}; prompt_tokens: {usage.PromptTokens}; completion_tokens: {usage.CompletionTokens}")
                : $"{finish}; the upstream reported no token counts");
        }
    }

    /// <summary>A pool for one CLI process: one brain at a time, kept until the process ends; upstreams only within <paramref name="egress"/>.</summary>
    internal static BrainPool SingleBrainPool(BrainRegistry registry, EntrySealer sealer, EgressAllowList? egress = null) => new(registry, new BrainLoadGuard(sealer), new BrainPoolOptions
    {
        MaxLoaded = 1,
        MemoryBudgetBytes = long.MaxValue,
        KeepAlive = Timeout.InfiniteTimeSpan,
        Engine = new LlamaEngineOptions { MaxParallel = 1 },
        Egress = egress ?? new EgressAllowList([]),
    });

    internal static ChatRequest Request(BrainManifest brain, string prompt, string? system, int? maxTokens, float? temperature, float? topP, uint? seed, string[]? stop)
    {
        var sampling = brain.Sampling;
        var defaults = new ChatRequest { Messages = [] };
        var systemPrompt = system ?? brain.SystemPrompt;
        var request = new ChatRequest
        {
            Messages = systemPrompt is null
                ? [new ChatMessage("user", prompt)]
                : [new ChatMessage("system", systemPrompt), new ChatMessage("user", prompt)],
            MaxTokens = maxTokens ?? sampling.MaxTokens ?? defaults.MaxTokens,
            Temperature = temperature ?? sampling.Temperature ?? defaults.Temperature,
            TopP = topP ?? sampling.TopP ?? defaults.TopP,
            Seed = seed ?? sampling.Seed,
            Stop = stop is { Length: > 0 } ? stop : sampling.Stop,
        };
        var problems = new SamplingDefaults { Temperature = request.Temperature, TopP = request.TopP, MaxTokens = request.MaxTokens, Stop = request.Stop }.Problems();
        if (problems.Count > 0)
        {
            throw new CliException(string.Join("; ", problems), ExitCodes.Usage);
        }

        return request;
    }

    /// <summary>A chat template file's text: at most 1 MiB of UTF-8.</summary>
    internal static string ReadTemplate(string path)
    {
        var full = Path.GetFullPath(path);
        try
        {
            var info = new FileInfo(full);
            if (!info.Exists)
            {
                throw new CliException($"the template file '{full}' does not exist", ExitCodes.Usage);
            }

            if (info.Length is 0 or > 1 << 20)
            {
                throw new CliException($"the template file '{full}' is {info.Length} bytes; a chat template is 1 byte to 1 MiB", ExitCodes.Usage);
            }

            return new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(File.ReadAllBytes(full));
        }
        catch (System.Text.DecoderFallbackException)
        {
            throw new CliException($"the template file '{full}' is not UTF-8 text", ExitCodes.Usage);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"the template file '{full}' cannot be read: {e.Message}", ExitCodes.Failed);
        }
    }

    private static void RefuseWith(ParseResult parse, string reason, params Option[] options)
    {
        if (options.Any(o => parse.GetResult(o) is not null))
        {
            throw new CliException(reason, ExitCodes.Usage);
        }
    }
}
