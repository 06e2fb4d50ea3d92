using System.CommandLine;
using Sios.Brains.Engines;
using Sios.Brains.Prompts;
using Sios.Brains.Registry;
using Sios.Brains.Synth;
using Sios.Cli.Hosting;
using Sios.Server.Http;
using Sios.Server.Doors.OpenAi;
using Sios.Server.Inference;

namespace Sios.Cli.Commands;

/// <summary><c>sios brain render</c>: the exact text a brain's model reads for an OpenAI chat request.</summary>
internal static class BrainRenderCommand
{
    private const int MaxRequestBytes = 8 << 20;

    public static Command Create()
    {
        var brain = new Option<string?>("--brain") { Description = "Render with this registered brain's template (from its GGUF) and system prompt", HelpName = "NAME" };
        var template = new Option<string?>("--template") { Description = "Render with this chat template file instead of a brain's", HelpName = "FILE" };
        var bos = new Option<string>("--bos") { Description = "The bos_token text for --template (default empty)", HelpName = "TEXT", DefaultValueFactory = _ => "" };
        var eos = new Option<string>("--eos") { Description = "The eos_token text for --template (default empty)", HelpName = "TEXT", DefaultValueFactory = _ => "" };
        var request = new Option<string>("--request") { Description = "The OpenAI chat completions request body (JSON), or - for stdin", HelpName = "REQUEST.json", Required = true };
        var command = new Command("render", """
            Print exactly the text a brain's model would receive for an OpenAI chat completions request: the
            conversation, tools and tool results rendered by the brain's own chat template (from its GGUF) with the
            brain's system prompt, or by --template FILE. Stdout holds the text only, byte for byte, with no newline
            added. Nothing is loaded or sealed; no passphrase is needed.
            Exit codes: 0 printed, 1 the request or the template is refused, 2 usage, 3 a file cannot be read.
            """)
        {
            brain, template, bos, eos, request,
        };
        command.SetAction(async (parse, ct) =>
        {
            if ((parse.GetValue(brain) is null) == (parse.GetValue(template) is null))
            {
                throw new CliException("give either --brain NAME or --template FILE", ExitCodes.Usage);
            }

            var body = await ReadRequestAsync(parse.GetValue(request)!, ct).ConfigureAwait(false);
            GenerationRequest parsed;
            try
            {
                using var doc = JsonFields.ParseObject(body);
                parsed = OpenAiRequests.ParseChat(doc.RootElement);
            }
            catch (ApiException e)
            {
                throw new CliException($"the request is refused{(e.Param is null ? "" : $" ({e.Param})")}: {e.Message}", ExitCodes.Invalid);
            }

            var (prompt, manifest) = parse.GetValue(brain) is { } name
                ? await ForBrainAsync(parse, name, ct).ConfigureAwait(false)
                : (Load(BrainRunCommands.ReadTemplate(parse.GetValue(template)!), parse.GetValue(bos)!, parse.GetValue(eos)!, parse.GetValue(template)!),
                    new BrainManifest { Name = "template", ModelPath = parse.GetValue(template)!, Sampling = new SamplingDefaults() });
            string text;
            try
            {
                text = prompt.Render(parsed.ToEngineRequest(manifest));
            }
            catch (Exception e) when (e is ChatTemplateRefusedException or ArgumentException)
            {
                throw new CliException(e.Message, ExitCodes.Invalid);
            }

            using var stdout = Console.OpenStandardOutput();
            await stdout.WriteAsync(System.Text.Encoding.UTF8.GetBytes(text), ct).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task<(PromptTemplate, BrainManifest)> ForBrainAsync(ParseResult parse, string name, CancellationToken ct)
    {
        var folder = CommonOptions.OpenData(parse);
        var brains = await folder.WithStateCheckAsync(authority => folder.Brains(authority: authority).List(), ct).ConfigureAwait(false);
        var manifest = brains.FirstOrDefault(b => b.Name == name) ?? throw new CliException($"no brain is named '{name}' (see 'sios brain list')", ExitCodes.Invalid);
        if (manifest.Upstream is not null || manifest.ModelPath is null)
        {
            throw new CliException($"'{name}' is an upstream brain: its endpoint renders the prompt, with its own template", ExitCodes.Invalid);
        }

        GgufHeader header;
        try
        {
            header = GgufHeader.Read(manifest.ModelPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Verify.FormatViolationException)
        {
            throw new CliException($"the weights of '{name}' cannot be read: {e.Message}", ExitCodes.Failed);
        }

        try
        {
            return (PromptTemplate.FromGguf(header, manifest.ModelPath) ?? throw new CliException($"the model of '{name}' has no chat template", ExitCodes.Invalid), manifest);
        }
        catch (ModelLoadException e)
        {
            throw new CliException(e.Message, ExitCodes.Invalid);
        }
    }

    private static PromptTemplate Load(string source, string bos, string eos, string path)
    {
        try
        {
            return PromptTemplate.Load(source, bos, eos, path);
        }
        catch (ModelLoadException e)
        {
            throw new CliException(e.Message, ExitCodes.Invalid);
        }
    }

    private static async Task<byte[]> ReadRequestAsync(string path, CancellationToken ct)
    {
        try
        {
            await using var input = path == "-" ? Console.OpenStandardInput() : File.OpenRead(Path.GetFullPath(path));
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = await input.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > MaxRequestBytes)
                {
                    throw new CliException($"the request is longer than {MaxRequestBytes} bytes", ExitCodes.Invalid);
                }
            }

            return buffer.ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"the request '{path}' cannot be read: {e.Message}", ExitCodes.Failed);
        }
    }
}
