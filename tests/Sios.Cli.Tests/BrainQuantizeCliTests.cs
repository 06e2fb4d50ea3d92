using System.Security.Cryptography;
using Sios.Brains.Synth;

namespace Sios.Cli.Tests;

/// <summary>
/// <c>sios brain quantize</c> through the real program: a synthesized f16 model rewritten as Q8_0 and Q4_K_M by
/// llama.cpp's quantizer (the tensor types read back from the file by our own GGUF reader), the digest printed being the
/// file's, the result pinned, loaded and answering; and every mistake refused with its exit code and nothing left behind.
/// </summary>
public sealed class BrainQuantizeCliTests(InitialisedLog log) : IClassFixture<InitialisedLog>
{
    private const uint GgmlQ8_0 = 8;
    private const uint GgmlQ4_K = 12;

    private string PathOf(string name) => Path.Combine(log.Root, name);

    private static string Sha(string path) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    [Theory]
    [InlineData("Q8_0", 7u, GgmlQ8_0)]
    [InlineData("q4_k_m", 15u, GgmlQ4_K)]
    public async Task A_model_is_quantized_its_digest_printed_and_it_answers(string type, uint fileType, uint tensorType)
    {
        var source = PathOf($"quantize-source-{type}.gguf");
        var synth = await SiosProcess.RunAsync(["brain", "synth", "--out", source, "--f16", "--layers", "2", "--embd", "256", "--heads", "4", "--ff", "512", "--context", "256"], passphrase: null);
        Assert.True(synth.ExitCode == 0, synth.Stderr);
        var output = PathOf($"quantized-{type}.gguf");

        var run = await SiosProcess.RunAsync(["brain", "quantize", source, output, "--type", type, "--threads", "2"], passphrase: null);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal(Sha(output) + "\n", run.Out);
        Assert.False(File.Exists(output + ".partial"));
        Assert.True(new FileInfo(output).Length < new FileInfo(source).Length);

        var header = GgufHeader.Read(output);
        Assert.Equal(fileType, header.GetUnsigned("general.file_type"));
        Assert.Equal(tensorType, header.FindTensor("blk.0.ffn_up.weight")!.Type);

        var name = $"quantized-{type.ToLowerInvariant().Replace('_', '-')}";
        var add = await SiosProcess.RunAsync(["brain", "add", name, "--model", output, "--threads", "1", "--data", log.Data]);
        Assert.True(add.ExitCode == 0, add.Stderr);
        var answer = await SiosProcess.RunAsync(["brain", "run", name, "--prompt", "Hello", "--max-tokens", "4", "--data", log.Data]);
        Assert.True(answer.ExitCode == 0, answer.Stderr);
        Assert.Matches("completion_tokens: 4", answer.Stderr);
    }

    [Fact]
    public async Task Mistakes_are_refused_with_their_exit_codes_and_leave_nothing_behind()
    {
        var source = PathOf("quantize-mistakes.gguf");
        Assert.Equal(0, (await SiosProcess.RunAsync(["brain", "synth", "--out", source, "--f16"], passphrase: null)).ExitCode);
        var output = PathOf("quantize-mistakes-out.gguf");

        Assert.Equal(2, (await SiosProcess.RunAsync(["brain", "quantize", source, output, "--type", "Q9_X"], passphrase: null)).ExitCode);
        Assert.Equal(2, (await SiosProcess.RunAsync(["brain", "quantize", source, output], passphrase: null)).ExitCode);
        Assert.Equal(2, (await SiosProcess.RunAsync(["brain", "quantize", source, output, "--type", "Q8_0", "--threads", "0"], passphrase: null)).ExitCode);
        Assert.Equal(2, (await SiosProcess.RunAsync(["brain", "quantize", PathOf("no-such.gguf"), output, "--type", "Q8_0"], passphrase: null)).ExitCode);
        Assert.Equal(2, (await SiosProcess.RunAsync(["brain", "quantize", source, source, "--type", "Q8_0"], passphrase: null)).ExitCode);

        var text = PathOf("not-a-model.txt");
        await File.WriteAllTextAsync(text, "hello");
        Assert.Equal(2, (await SiosProcess.RunAsync(["brain", "quantize", text, output, "--type", "Q8_0"], passphrase: null)).ExitCode);

        // A GGUF header cut short: llama.cpp refuses it, and says why.
        var torn = PathOf("torn.gguf");
        await File.WriteAllBytesAsync(torn, File.ReadAllBytes(source)[..4096]);
        var refused = await SiosProcess.RunAsync(["brain", "quantize", torn, output, "--type", "Q8_0"], passphrase: null);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("llama.cpp", refused.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
        Assert.False(File.Exists(output + ".partial"));

        await File.WriteAllTextAsync(output, "taken");
        Assert.Equal(2, (await SiosProcess.RunAsync(["brain", "quantize", source, output, "--type", "Q8_0"], passphrase: null)).ExitCode);
        Assert.Equal("taken", await File.ReadAllTextAsync(output));
        Assert.Contains("quantize", (await SiosProcess.RunAsync(["brain", "quantize", "--help"], passphrase: null)).Out, StringComparison.Ordinal);
    }
}
