using CsCheck;
using Sios.Brains.Synth;
using Sios.Tests.Fuzz;
using Sios.Verify;
using Xunit.Abstractions;

namespace Sios.Brains.Tests.Fuzz;

/// <summary>
/// Issue 6, item 4: hostile GGUF headers. The header of a model from TinyModelSynth is mutated (the tensor data after
/// it kept, so offsets still point inside the file) and read; the only acceptable failure is FormatViolationException.
/// </summary>
public sealed class GgufHeaderFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public void Mutated_headers_are_read_or_rejected_as_malformed_never_crash()
    {
        using var file = new MemoryStream();
        TinyModelSynth.WriteModel(file, new TinyModelOptions { Layers = 1, Embedding = 8, Heads = 2, KvHeads = 1, FeedForward = 8, Context = 16 });
        var model = file.ToArray();
        var valid = GgufHeader.Read(new MemoryStream(model), "tiny");
        Assert.NotEmpty(valid.Tensors);
        var header = model[..(int)valid.DataOffset];
        var tail = model[(int)valid.DataOffset..];
        var inputs = Gen.Select(FuzzHarness.Mutants(header), Gen.Bool).Select((h, keepTail) => keepTail ? [.. h, .. tail] : h);
        var executions = FuzzHarness.Run(inputs, input => GgufHeader.Read(new MemoryStream(input), "fuzzed.gguf"), typeof(FormatViolationException));
        output.WriteLine($"GgufHeader.Read: {executions} executions in {FuzzHarness.Seconds} s");
        Assert.True(executions > 0);
    }
}
