using System.Security.Cryptography;

namespace Sios.Cli.Tests;

/// <summary>
/// A llama.cpp build made for the machine (<c>SIOS_LLAMA_NATIVE</c>, from tools/build-native-llama.sh) in place of the
/// packaged one: what runs the weights is attested wherever it was loaded from, and a folder without the library is
/// refused by name before anything is loaded.
/// </summary>
public sealed class NativeLlamaCliTests(InitialisedLog log) : IClassFixture<InitialisedLog>
{
    [Fact]
    public async Task The_attestation_names_and_digests_the_machine_built_libraries()
    {
        var native = Path.Combine(log.Root, "native-build");
        Directory.CreateDirectory(native);
        await File.WriteAllTextAsync(Path.Combine(native, "libllama.so"), "not really a library, but bytes to digest");
        await File.WriteAllTextAsync(Path.Combine(native, "libggml-cpu.so"), "another");
        await File.WriteAllTextAsync(Path.Combine(native, "README.txt"), "not a library: not attested");

        var attested = await SiosProcess.RunAsync(["attest", "--data", log.Data], env: ("SIOS_LLAMA_NATIVE", native));
        Assert.True(attested.ExitCode == 0, attested.Stderr);
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(native, "libllama.so"))));
        Assert.Contains($"\ncomponent SIOS_LLAMA_NATIVE/libllama.so {digest}\n", attested.Out, StringComparison.Ordinal);
        Assert.Contains("\ncomponent SIOS_LLAMA_NATIVE/libggml-cpu.so sha256:", attested.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("README.txt", attested.Out, StringComparison.Ordinal);

        var packaged = await SiosProcess.RunAsync(["attest", "--data", log.Data]);
        Assert.True(packaged.ExitCode == 0, packaged.Stderr);
        Assert.DoesNotContain("SIOS_LLAMA_NATIVE", packaged.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_folder_without_libllama_is_refused_by_name()
    {
        var model = Path.Combine(log.Root, "native-model.gguf");
        Assert.Equal(0, (await SiosProcess.RunAsync(["brain", "synth", "--out", model], passphrase: null)).ExitCode);
        var empty = Path.Combine(log.Root, "empty-native");
        Directory.CreateDirectory(empty);
        var run = await SiosProcess.RunAsync(["brain", "quantize", model, Path.Combine(log.Root, "never.gguf"), "--type", "Q8_0"], passphrase: null, env: ("SIOS_LLAMA_NATIVE", empty));
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("SIOS_LLAMA_NATIVE", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("libllama.so", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Stderr, StringComparison.Ordinal);
    }
}
