using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace Sios.Cli.Tests;

/// <summary><c>sios brain ...</c> through the real program: register, list, verify, remove, and a tampered model.</summary>
public sealed class BrainCliTests(InitialisedLog log) : IClassFixture<InitialisedLog>
{
    private string[] D(params string[] args) => [.. args, "--data", log.Data];

    private string RandomModel(string name, int length) => GgufFiles.Model(Path.Combine(log.Root, name), length);

    private string RandomAdapter(string name, int length) => GgufFiles.Adapter(Path.Combine(log.Root, name), length);

    private async Task<long> LogSizeAsync()
    {
        var checkpoint = await SiosProcess.RunAsync(D("log", "checkpoint"), passphrase: null);
        return long.Parse(checkpoint.Out.Split('\n')[1], CultureInfo.InvariantCulture);
    }

    private static string Sha(string path) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private static void FlipByte(string path, int offset)
    {
        var bytes = File.ReadAllBytes(path);
        bytes[offset] ^= 0x04;
        File.WriteAllBytes(path, bytes);
    }

    private async Task<JsonElement> LastEntryAsync()
    {
        var checkpoint = await SiosProcess.RunAsync(D("log", "checkpoint"), passphrase: null);
        var size = long.Parse(checkpoint.Out.Split('\n')[1], CultureInfo.InvariantCulture);
        var entry = await SiosProcess.RunAsync(D("log", "entry", (size - 1).ToString(CultureInfo.InvariantCulture)), passphrase: null);
        Assert.True(entry.ExitCode == 0, entry.Stderr);
        using var json = JsonDocument.Parse(entry.Stdout);
        return json.RootElement.Clone();
    }

    private static async Task<SiosRun> OkAsync(string[] args, string? passphrase = SiosProcess.Passphrase)
    {
        var run = await SiosProcess.RunAsync(args, passphrase);
        Assert.True(run.ExitCode == 0, $"{string.Join(' ', args)}: exit {run.ExitCode}: {run.Stderr}");
        return run;
    }

    [Fact]
    public async Task Add_list_verify_remove_and_each_change_is_sealed()
    {
        var model = RandomModel("cli-model.gguf", 300_000);
        var adapter = RandomAdapter("cli-lora.gguf", 4_000);
        var add = await OkAsync(D("brain", "add", "cli-medic", "--model", model, "--adapter", adapter, "--adapter-scale", "0.5",
            "--description", "answers medical questions", "--system-prompt", "Be precise.", "--temperature", "0.3", "--top-p", "0.95",
            "--max-tokens", "128", "--stop", "###", "--stop", "END", "--seed", "7", "--context", "1024", "--threads", "2"));
        Assert.Equal($"cli-medic {Sha(model)} {Sha(adapter)}\n", add.Out);
        var registered = await LastEntryAsync();
        Assert.Equal("brain.registered", registered.GetProperty("type").GetString());
        Assert.Equal("cli-medic", registered.GetProperty("brain").GetString());
        Assert.Equal(Sha(model), registered.GetProperty("weights").GetString());
        Assert.Equal(Sha(adapter), registered.GetProperty("adapter").GetString());
        Assert.Equal(["###", "END"], registered.GetProperty("sampling").GetProperty("stop").EnumerateArray().Select(s => s.GetString()));

        var list = await OkAsync(D("brain", "list"), passphrase: null);
        Assert.Contains($"cli-medic\t{Sha(model)}\t{Sha(adapter)}\tanswers medical questions\n", list.Out, StringComparison.Ordinal);
        var json = await OkAsync(D("brain", "list", "--json"), passphrase: null);
        using (var brains = JsonDocument.Parse(json.Stdout))
        {
            var medic = brains.RootElement.EnumerateArray().Single(b => b.GetProperty("name").GetString() == "cli-medic");
            Assert.Equal(model, medic.GetProperty("model_path").GetString());
            Assert.Equal(1024, medic.GetProperty("context_size").GetInt32());
            Assert.Equal(0.5, medic.GetProperty("adapter_scale").GetDouble());
        }

        var verify = await OkAsync(D("brain", "verify", "cli-medic"), passphrase: null);
        Assert.Equal("cli-medic\tok\n", verify.Out);

        var remove = await OkAsync(D("brain", "remove", "cli-medic"));
        Assert.Equal("cli-medic\n", remove.Out);
        var removed = await LastEntryAsync();
        Assert.Equal("brain.removed", removed.GetProperty("type").GetString());
        Assert.Equal("cli-medic", removed.GetProperty("brain").GetString());
        Assert.DoesNotContain("cli-medic", (await OkAsync(D("brain", "list"), passphrase: null)).Out, StringComparison.Ordinal);
        Assert.Equal(3, (await SiosProcess.RunAsync(D("brain", "remove", "cli-medic"))).ExitCode);
    }

    [Fact]
    public async Task A_flipped_byte_fails_verify_with_exit_1_and_seals_brain_refused()
    {
        var model = RandomModel("cli-tampered.gguf", 200_000);
        await OkAsync(D("brain", "add", "cli-tampered", "--model", model));
        var pinned = Sha(model);
        FlipByte(model, 100_000);
        var actual = Sha(model);

        var verify = await SiosProcess.RunAsync(D("brain", "verify", "cli-tampered"));
        Assert.True(verify.ExitCode == 1, verify.Stderr);
        Assert.Equal("cli-tampered\tMISMATCH\n", verify.Out);
        Assert.Contains($"model file {model} does not match its pinned digest: expected {pinned}, actual {actual}", verify.Stderr, StringComparison.Ordinal);
        Assert.Contains("sealed brain.refused", verify.Stderr, StringComparison.Ordinal);

        var refused = await LastEntryAsync();
        Assert.Equal("brain.refused", refused.GetProperty("type").GetString());
        Assert.Equal("cli-tampered", refused.GetProperty("brain").GetString());
        Assert.Equal(pinned, refused.GetProperty("expected").GetString());
        Assert.Equal(actual, refused.GetProperty("actual").GetString());
        Assert.Contains(model, refused.GetProperty("reason").GetString(), StringComparison.Ordinal);

        var unsealed = await SiosProcess.RunAsync(D("brain", "verify"), passphrase: null);
        Assert.Equal(1, unsealed.ExitCode);
        Assert.Contains("cli-tampered\tMISMATCH\n", unsealed.Out, StringComparison.Ordinal);
        Assert.Contains("NOT sealed", unsealed.Stderr, StringComparison.Ordinal);
        Assert.Contains("SIOS_KEY_PASSPHRASE", unsealed.Stderr, StringComparison.Ordinal);
        Assert.Equal(refused.GetProperty("id").GetString(), (await LastEntryAsync()).GetProperty("id").GetString());

        await OkAsync(D("brain", "remove", "cli-tampered"));
    }

    [Fact]
    public async Task Adding_refuses_duplicates_missing_files_and_a_missing_passphrase()
    {
        var model = RandomModel("cli-dup.gguf", 1_000);
        await OkAsync(D("brain", "add", "cli-dup", "--model", model));
        var duplicate = await SiosProcess.RunAsync(D("brain", "add", "cli-dup", "--model", model));
        Assert.Equal(3, duplicate.ExitCode);
        Assert.Contains("already registered", duplicate.Stderr, StringComparison.Ordinal);
        var missing = await SiosProcess.RunAsync(D("brain", "add", "cli-missing", "--model", Path.Combine(log.Root, "nope.gguf")));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("does not exist", missing.Stderr, StringComparison.Ordinal);
        var noPassphrase = await SiosProcess.RunAsync(D("brain", "add", "cli-nopass", "--model", model), passphrase: null);
        Assert.Equal(3, noPassphrase.ExitCode);
        Assert.Contains("SIOS_KEY_PASSPHRASE", noPassphrase.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("cli-nopass", (await OkAsync(D("brain", "list"), passphrase: null)).Out, StringComparison.Ordinal);
        await OkAsync(D("brain", "remove", "cli-dup"));
    }

    public static TheoryData<string, string> NotWeights => new()
    {
        { "a text file as --model", "is not a GGUF file" },
        { "an empty file as --model", "is empty, or not a regular file" },
        { "a folder as --model", "is a folder; give the GGUF file inside it" },
        { "a LoRA adapter as --model", "is a LoRA adapter, not a model" },
        { "a model as --adapter", "is not a LoRA adapter" },
        { "a LoRA for another architecture", "is for architecture 'qwen2'" },
    };

    [Theory]
    [MemberData(nameof(NotWeights))]
    public async Task Add_refuses_what_is_not_a_model_and_its_lora_with_exit_2_and_seals_nothing(string what, string expected)
    {
        var text = Path.Combine(log.Root, "cli-notes.txt");
        await File.WriteAllTextAsync(text, "these are notes, not weights; long enough to hold a GGUF header\n");
        var empty = Path.Combine(log.Root, "cli-empty.gguf");
        await File.WriteAllBytesAsync(empty, []);
        var folder = Directory.CreateDirectory(Path.Combine(log.Root, "cli-weights-folder")).FullName;
        var model = RandomModel("cli-valid-base.gguf", 1_000);
        var lora = RandomAdapter("cli-valid.lora.gguf", 100);
        var otherArchitecture = Path.Combine(log.Root, "cli-qwen.lora.gguf");
        new Sios.Brains.Synth.GgufWriter().AddString("general.architecture", "qwen2").AddString("general.type", "adapter").AddString("adapter.type", "lora").WriteTo(otherArchitecture);
        string[] args = what switch
        {
            "a text file as --model" => ["--model", text],
            "an empty file as --model" => ["--model", empty],
            "a folder as --model" => ["--model", folder],
            "a LoRA adapter as --model" => ["--model", lora],
            "a model as --adapter" => ["--model", model, "--adapter", RandomModel("cli-other-base.gguf", 100)],
            _ => ["--model", model, "--adapter", otherArchitecture],
        };
        var before = await LogSizeAsync();
        var run = await SiosProcess.RunAsync(D(["brain", "add", "cli-not-weights", .. args]));
        Assert.True(run.ExitCode == 2, $"{what}: exit {run.ExitCode}: {run.Stderr}");
        Assert.Contains(expected, run.Stderr, StringComparison.Ordinal);
        Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Empty(run.Stdout);
        Assert.Equal(before, await LogSizeAsync());
        Assert.DoesNotContain("cli-not-weights", (await OkAsync(D("brain", "list"), passphrase: null)).Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("brain")]
    [InlineData("brain frobnicate")]
    [InlineData("brain add")]
    [InlineData("brain add only-a-name")]
    [InlineData("brain add Bad_Name --model M")]
    [InlineData("brain add ok --model M --temperature warm")]
    [InlineData("brain add ok --model M --temperature 2.5")]
    [InlineData("brain add ok --model M --context 256 --max-tokens 512")]
    [InlineData("brain add ok --model M --upstream http://127.0.0.1:9/ --upstream-model m")]
    [InlineData("brain add ok --upstream http://127.0.0.1:9/")]
    [InlineData("brain add ok --model M --upstream-model m")]
    [InlineData("brain add ok --model M --upstream-key-env TOKEN")]
    [InlineData("brain add ok --upstream not-a-url --upstream-model m")]
    [InlineData("brain add ok --upstream ftp://gpu1.lan/ --upstream-model m")]
    [InlineData("brain add ok --upstream http://gpu1.lan:11434/v1 --upstream-model m")]
    [InlineData("brain add ok --upstream http://gpu1.lan/?key=1 --upstream-model m")]
    [InlineData("brain add ok --upstream http://gpu1.lan/ --upstream-model m --threads 2")]
    [InlineData("brain add ok --upstream http://gpu1.lan/ --upstream-model m --adapter M")]
    [InlineData("brain add ok --upstream http://gpu1.lan/ --upstream-model m --upstream-key-env 1BAD")]
    [InlineData("brain list --bogus")]
    [InlineData("brain remove")]
    [InlineData("brain synth")]
    [InlineData("brain synth --out F --layers many")]
    [InlineData("brain synth --out F --embd 30 --heads 4")]
    [InlineData("brain synth --out F --rank 8")]
    [InlineData("brain synth --out F --lora-of M --layers 3")]
    [InlineData("brain synth --out F --lora-of M --f16")]
    [InlineData("brain synth --out F --lora-of M --rank 0")]
    [InlineData("brain run")]
    [InlineData("brain run some-brain")]
    [InlineData("brain run some-brain --prompt hi --temperature 3")]
    [InlineData("brain run some-brain --prompt hi --max-tokens 0")]
    [InlineData("brain run some-brain --prompt hi --top-p 0")]
    [InlineData("brain run some-brain --prompt hi --egress http://gpu1.lan")]
    public async Task Usage_errors_exit_2(string commandLine)
    {
        var model = RandomModel("cli-usage.gguf", 10);
        var output = Path.Combine(log.Root, "cli-usage-out.gguf");
        var args = commandLine.Split(' ').Select(a => a switch { "M" => model, "F" => output, _ => a }).ToArray();
        var run = await SiosProcess.RunAsync(D(args));
        Assert.True(run.ExitCode == 2, $"exit {run.ExitCode}: {run.Stderr}");
        Assert.Empty(run.Stdout);
        Assert.StartsWith("sios: ", run.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("brain")]
    [InlineData("brain add")]
    [InlineData("brain list")]
    [InlineData("brain verify")]
    [InlineData("brain remove")]
    [InlineData("brain synth")]
    [InlineData("brain run")]
    public async Task Every_brain_command_has_help(string commandLine)
    {
        var run = await SiosProcess.RunAsync([.. commandLine.Split(' '), "--help"], passphrase: null);
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("Usage:", run.Out, StringComparison.Ordinal);
        Assert.Contains("--data", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_of_an_unknown_brain_cannot_run()
    {
        var run = await SiosProcess.RunAsync(D("brain", "verify", "cli-ghost"), passphrase: null);
        Assert.Equal(3, run.ExitCode);
        Assert.Contains("no brain named 'cli-ghost'", run.Stderr, StringComparison.Ordinal);
    }
}
