using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace Sios.Cli.Tests;

/// <summary><c>sios brain synth</c> and <c>sios brain run</c> through the real program, on synthesized models.</summary>
public sealed class BrainRunCliTests(InitialisedLog log) : IClassFixture<InitialisedLog>
{
    private string[] D(params string[] args) => [.. args, "--data", log.Data];

    private string PathOf(string name) => Path.Combine(log.Root, name);

    private static string Sha(string path) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private static async Task<SiosRun> OkAsync(string[] args, string? passphrase = SiosProcess.Passphrase)
    {
        var run = await SiosProcess.RunAsync(args, passphrase);
        Assert.True(run.ExitCode == 0, $"{string.Join(' ', args)}: exit {run.ExitCode}: {run.Stderr}");
        return run;
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

    private async Task<string> SynthAsync(string name, params string[] options)
    {
        var path = PathOf(name);
        var run = await OkAsync(["brain", "synth", "--out", path, .. options], passphrase: null);
        Assert.Equal(Sha(path) + "\n", run.Out);
        return path;
    }

    [Fact]
    public async Task Synth_add_run_answers_offline_and_seals_the_load()
    {
        var model = await SynthAsync("run-model.gguf", "--layers", "2", "--embd", "64", "--heads", "4", "--ff", "96", "--context", "256", "--seed", "9");
        await OkAsync(D("brain", "add", "run-tiny", "--model", model, "--system-prompt", "Be brief.", "--threads", "1"));

        var run = await OkAsync(D("brain", "run", "run-tiny", "--prompt", "Hello there", "--max-tokens", "6", "--seed", "4", "--temperature", "0.7"));
        Assert.False(string.IsNullOrWhiteSpace(run.Out));
        Assert.Matches(@"finish_reason: length; prompt_tokens: \d+; completion_tokens: 6", run.Stderr);
        var loaded = await LastEntryAsync();
        Assert.Equal("brain.loaded", loaded.GetProperty("type").GetString());
        Assert.Equal("run-tiny", loaded.GetProperty("brain").GetString());
        Assert.Equal(Sha(model), loaded.GetProperty("weights").GetString());

        // The brain's own system prompt counts toward the prompt; --system replaces it.
        var longer = await OkAsync(D("brain", "run", "run-tiny", "--prompt", "Hello there", "--max-tokens", "6", "--system", "Be brief and careful."));
        Assert.NotEqual(PromptTokens(run.Stderr), PromptTokens(longer.Stderr));

        var f16 = await SynthAsync("run-f16.gguf", "--f16", "--seed", "9", "--context", "256");
        Assert.True(new FileInfo(f16).Length < new FileInfo(model).Length);
    }

    private static int PromptTokens(string stderr)
    {
        var match = System.Text.RegularExpressions.Regex.Match(stderr, @"prompt_tokens: (\d+)");
        Assert.True(match.Success, stderr);
        return int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task A_flipped_byte_makes_run_refuse_with_exit_1_and_seal_brain_refused()
    {
        var model = await SynthAsync("run-tampered.gguf", "--seed", "10");
        await OkAsync(D("brain", "add", "run-tampered", "--model", model, "--threads", "1"));
        var pinned = Sha(model);
        var bytes = await File.ReadAllBytesAsync(model);
        bytes[bytes.Length / 2] ^= 0x10;
        await File.WriteAllBytesAsync(model, bytes);

        var run = await SiosProcess.RunAsync(D("brain", "run", "run-tampered", "--prompt", "Hello"));
        Assert.True(run.ExitCode == 1, $"exit {run.ExitCode}: {run.Stderr}");
        Assert.Empty(run.Stdout);
        Assert.Contains(model, run.Stderr, StringComparison.Ordinal);
        Assert.Contains("refused", run.Stderr, StringComparison.Ordinal);
        var refused = await LastEntryAsync();
        Assert.Equal("brain.refused", refused.GetProperty("type").GetString());
        Assert.Equal("run-tampered", refused.GetProperty("brain").GetString());
        Assert.Equal(pinned, refused.GetProperty("expected").GetString());
        Assert.Equal(Sha(model), refused.GetProperty("actual").GetString());
    }

    [Fact]
    public async Task Synth_lora_of_gives_an_adapter_that_add_accepts_and_run_uses()
    {
        var model = await SynthAsync("run-base.gguf", "--seed", "11");
        var adapter = await SynthAsync("run-lora.gguf", "--lora-of", model, "--rank", "8", "--alpha", "16", "--seed", "12");
        var add = await OkAsync(D("brain", "add", "run-spec", "--model", model, "--adapter", adapter, "--threads", "1"));
        Assert.Equal($"run-spec {Sha(model)} {Sha(adapter)}\n", add.Out);
        await OkAsync(D("brain", "add", "run-base", "--model", model, "--threads", "1"));

        string[] ask = ["--prompt", "Hello", "--max-tokens", "16", "--temperature", "0"];
        var specialist = await OkAsync(D(["brain", "run", "run-spec", .. ask]));
        var loaded = await LastEntryAsync();
        Assert.Equal("brain.loaded", loaded.GetProperty("type").GetString());
        Assert.Equal("run-spec", loaded.GetProperty("brain").GetString());
        Assert.Equal(Sha(adapter), loaded.GetProperty("adapter").GetString());

        var plain = await OkAsync(D(["brain", "run", "run-base", .. ask]));
        Assert.NotEqual(plain.Out, specialist.Out);
    }

    [Fact]
    public async Task Run_of_an_unknown_brain_or_without_a_passphrase_cannot_run()
    {
        var unknown = await SiosProcess.RunAsync(D("brain", "run", "run-ghost", "--prompt", "hi"));
        Assert.Equal(3, unknown.ExitCode);
        Assert.Contains("no brain named 'run-ghost'", unknown.Stderr, StringComparison.Ordinal);

        var model = await SynthAsync("run-nopass.gguf", "--seed", "13");
        await OkAsync(D("brain", "add", "run-nopass", "--model", model, "--threads", "1"));
        var noPassphrase = await SiosProcess.RunAsync(D("brain", "run", "run-nopass", "--prompt", "hi"), passphrase: null);
        Assert.Equal(3, noPassphrase.ExitCode);
        Assert.Contains("SIOS_KEY_PASSPHRASE", noPassphrase.Stderr, StringComparison.Ordinal);
        Assert.Empty(noPassphrase.Stdout);

        var noBase = await SiosProcess.RunAsync(["brain", "synth", "--out", PathOf("run-orphan.gguf"), "--lora-of", PathOf("run-missing.gguf")], passphrase: null);
        Assert.Equal(3, noBase.ExitCode);
        Assert.Contains("does not exist", noBase.Stderr, StringComparison.Ordinal);
    }
}
