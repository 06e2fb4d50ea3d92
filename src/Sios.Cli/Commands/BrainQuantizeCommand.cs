using System.CommandLine;
using Sios.Brains.Engines;
using Sios.Cli.Hosting;
using Sios.Node;

namespace Sios.Cli.Commands;

/// <summary><c>sios brain quantize</c>: a GGUF model rewritten in a quantized format by llama.cpp's own quantizer.</summary>
internal static class BrainQuantizeCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("IN") { Description = "The GGUF model to quantize (f32, f16 or bf16; an already quantized one is requantized)" };
        var output = new Argument<string>("OUT") { Description = "The file to write; it must not exist" };
        var type = new Option<string>("--type") { Description = $"The format: {string.Join(", ", LlamaQuantizer.Types.Keys)}", Required = true, HelpName = "TYPE" };
        var threads = new Option<int?>("--threads") { Description = "Threads to quantize with, 1 to 1024 (default: every core)", HelpName = "N" };
        var command = new Command("quantize", """
            Quantize a GGUF model with llama.cpp's quantizer (as llama-quantize does), showing progress per tensor on
            stderr, then print the new file's sha256: digest on stdout (the pin 'sios brain add' will take). The result
            appears under OUT only once complete and on disk. Nothing is sealed: registering the result is 'brain add'.
            Exit codes: 0 done, 1 llama.cpp refused the input (its words are shown), 2 usage error (a bad type, IN not
            a GGUF file, OUT existing), 3 could not write.
            """) { input, output, type, threads };
        command.SetAction(async (parse, ct) =>
        {
            var count = parse.GetValue(threads) ?? Environment.ProcessorCount;
            if (count is < 1 or > 1024)
            {
                throw new CliException($"--threads must be 1 to 1024 (got {count})", ExitCodes.Usage);
            }

            string digest;
            try
            {
                // The bar ends its line before the result is printed, so a terminal shows the digest on a line of its own.
                using var bar = new TensorProgress();
                digest = await LlamaQuantizer.QuantizeAsync(parse.GetValue(input)!, parse.GetValue(output)!, parse.GetValue(type)!, count, bar, ct).ConfigureAwait(false);
            }
            catch (ArgumentException e)
            {
                throw new CliException(e.Message, ExitCodes.Usage);
            }
            catch (ModelLoadException e)
            {
                throw new CliException(e.Message, ExitCodes.Invalid);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"the quantized model could not be written: {e.Message}", ExitCodes.Failed);
            }

            Terminal.Result(digest);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>A progress bar over the tensors, drawn once llama.cpp says how many there are.</summary>
    private sealed class TensorProgress : IProgress<(int Done, int Total)>, IDisposable
    {
        private ProgressBar? _bar;

        public void Report((int Done, int Total) value)
        {
            _bar ??= new ProgressBar(value.Total, "tensors");
            _bar.Report(value.Done);
        }

        public void Dispose() => _bar?.Dispose();
    }
}
