using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Sios.Cli.Tests;

/// <summary>
/// Chat templates through the real program: <c>brain synth --template</c>, <c>brain add --chat-template</c> (pinned and
/// sealed like the weights, refused when it cannot render, refused at load when changed) and <c>brain render</c>.
/// </summary>
public sealed class BrainTemplateCliTests(InitialisedLog log) : IClassFixture<InitialisedLog>
{
    private const string Template = """
        {%- for m in messages %}<|im_start|>{{ m.role }}
        {{ m.content }}<|im_end|>
        {% endfor %}{%- if tools %}<tools>{{ tools | length }}</tools>{% endif %}{%- if add_generation_prompt %}<|im_start|>assistant
        {% endif %}
        """;

    private const string Request = """
        {"model":"x","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi <there>"}],
         "tools":[{"type":"function","function":{"name":"add","parameters":{"type":"object"}}}]}
        """;

    private string[] D(params string[] args) => [.. args, "--data", log.Data];

    private string PathOf(string name) => Path.Combine(log.Root, name);

    private static string Sha(string path) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private static async Task<SiosRun> OkAsync(string[] args, string? passphrase = SiosProcess.Passphrase, byte[]? stdin = null)
    {
        var run = await SiosProcess.RunAsync(args, passphrase, stdin);
        Assert.True(run.ExitCode == 0, $"{string.Join(' ', args)}: exit {run.ExitCode}: {run.Stderr}");
        return run;
    }

    private async Task<JsonElement> LastEntryAsync()
    {
        var checkpoint = await SiosProcess.RunAsync(D("log", "checkpoint"), passphrase: null);
        var size = long.Parse(checkpoint.Out.Split('\n')[1], CultureInfo.InvariantCulture);
        var entry = await SiosProcess.RunAsync(D("log", "entry", (size - 1).ToString(CultureInfo.InvariantCulture)), passphrase: null);
        using var json = JsonDocument.Parse(entry.Stdout);
        return json.RootElement.Clone();
    }

    [Fact]
    public async Task Render_prints_exactly_the_prompt_of_a_template_file_and_of_a_brain()
    {
        var template = PathOf("render.jinja");
        await File.WriteAllTextAsync(template, Template);
        var request = PathOf("render-request.json");
        await File.WriteAllTextAsync(request, Request);
        const string Expected = "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi <there><|im_end|>\n<tools>1</tools><|im_start|>assistant\n";

        var fromFile = await OkAsync(["brain", "render", "--template", template, "--request", request], passphrase: null);
        Assert.Equal(Expected, fromFile.Out);

        var fromStdin = await OkAsync(["brain", "render", "--template", template, "--request", "-"], passphrase: null, stdin: Encoding.UTF8.GetBytes(Request));
        Assert.Equal(Expected, fromStdin.Out);

        // A brain renders with its GGUF's own template and puts its system prompt first.
        var model = PathOf("render-model.gguf");
        await OkAsync(["brain", "synth", "--out", model, "--template", template, "--seed", "5"], passphrase: null);
        await OkAsync(D("brain", "add", "render-brain", "--model", model, "--system-prompt", "Operator rules."));
        var fromBrain = await OkAsync(D("brain", "render", "--brain", "render-brain", "--request", request), passphrase: null);
        Assert.StartsWith("<|im_start|>system\nOperator rules.<|im_end|>\n<|im_start|>system\nBe brief.", fromBrain.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"model\":\"x\",\"messages\":[]}", "messages")]
    [InlineData("{\"model\":\"x\",\"messages\":[{\"role\":\"tool\",\"tool_call_id\":\"c\",\"content\":\"1\"}]}", "tool_call_id")]
    [InlineData("not json", "JSON")]
    public async Task Render_refuses_a_bad_request_with_exit_1_and_prints_nothing(string body, string named)
    {
        var template = PathOf("render-bad.jinja");
        await File.WriteAllTextAsync(template, Template);
        var run = await SiosProcess.RunAsync(["brain", "render", "--template", template, "--request", "-"], passphrase: null, stdin: Encoding.UTF8.GetBytes(body));
        Assert.Equal(1, run.ExitCode);
        Assert.Empty(run.Stdout);
        Assert.Contains(named, run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Render_needs_exactly_one_of_brain_and_template()
    {
        Assert.Equal(2, (await SiosProcess.RunAsync(["brain", "render", "--request", "-"], passphrase: null)).ExitCode);
        Assert.Equal(0, (await SiosProcess.RunAsync(["brain", "render", "--help"], passphrase: null)).ExitCode);
    }

    [Fact]
    public async Task A_chat_template_file_is_pinned_sealed_and_a_changed_one_refuses_the_load()
    {
        var model = PathOf("pinned-model.gguf");
        await OkAsync(["brain", "synth", "--out", model, "--seed", "6", "--context", "256"], passphrase: null);
        var template = PathOf("pinned.jinja");
        await File.WriteAllTextAsync(template, Template);
        await OkAsync(D("brain", "add", "pinned-template", "--model", model, "--chat-template", template, "--threads", "1"));
        var registered = await LastEntryAsync();
        Assert.Equal("brain.registered", registered.GetProperty("type").GetString());
        Assert.Equal(Sha(template), registered.GetProperty("template").GetString());

        var run = await OkAsync(D("brain", "run", "pinned-template", "--prompt", "Hello", "--max-tokens", "4"));
        Assert.Equal(Sha(template), (await LastEntryAsync()).GetProperty("template").GetString());

        await File.AppendAllTextAsync(template, "{{ 'injected' }}");
        var refused = await SiosProcess.RunAsync(D("brain", "run", "pinned-template", "--prompt", "Hello", "--max-tokens", "4"));
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("chat template", refused.Stderr, StringComparison.Ordinal);
        var entry = await LastEntryAsync();
        Assert.Equal("brain.refused", entry.GetProperty("type").GetString());
        Assert.Equal(Sha(template), entry.GetProperty("actual").GetString());
        _ = run;
    }

    [Fact]
    public async Task A_template_that_cannot_render_is_refused_at_add_naming_the_construct_and_nothing_is_sealed()
    {
        var model = PathOf("bad-template-model.gguf");
        await OkAsync(["brain", "synth", "--out", model, "--seed", "7", "--context", "256"], passphrase: null);
        var template = PathOf("bad.jinja");
        await File.WriteAllTextAsync(template, "{% extends 'base.html' %}{{ messages }}");
        var before = await SiosProcess.RunAsync(D("log", "checkpoint"), passphrase: null);
        var run = await SiosProcess.RunAsync(D("brain", "add", "bad-template", "--model", model, "--chat-template", template));
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("extends", run.Stderr, StringComparison.Ordinal);
        var after = await SiosProcess.RunAsync(D("log", "checkpoint"), passphrase: null);
        Assert.Equal(before.Out.Split('\n')[1], after.Out.Split('\n')[1]);
    }

    [Fact]
    public async Task Synth_writes_the_template_and_its_special_tokens()
    {
        var template = PathOf("synth.jinja");
        await File.WriteAllTextAsync(template, "{{ '<tool_call>' }}{% for m in messages %}[INST]{{ m.content }}[/INST]{% endfor %}");
        var model = PathOf("synth-template.gguf");
        await OkAsync(["brain", "synth", "--out", model, "--template", template], passphrase: null);
        var header = Sios.Brains.Synth.GgufHeader.Read(model);
        Assert.Equal(await File.ReadAllTextAsync(template), header.GetString("tokenizer.chat_template"));
        var tokens = (string[])header.Metadata["tokenizer.ggml.tokens"];
        Assert.Contains("<tool_call>", tokens);
        Assert.Contains("[INST]", tokens);
        Assert.Contains("[/INST]", tokens);
    }
}
