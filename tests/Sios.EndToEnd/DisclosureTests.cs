using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Sios.EndToEnd;

/// <summary>
/// Provable disclosure end to end (issue 5): a real server keeps each answer in its vault (the demo keeps 30 days),
/// 'sios log disclose' takes one out, and a third party with only a copy of the folder and the vkeys checks it
/// against the sealed commitments with 'sios verify disclosure'.
/// </summary>
public sealed partial class DisclosureTests(ServedDemo demo) : IClassFixture<ServedDemo>, IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("sios-disclosure-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private async Task<(long Index, byte[] Request, byte[] Response)> AnswerAsync(bool stream)
    {
        var request = Encoding.UTF8.GetBytes(stream
            ? """{"model":"ledger","messages":[{"role":"user","content":"Stream it"}],"max_tokens":6,"stream":true}"""
            : """{"model":"clinical","messages":[{"role":"user","content":"Disclose me"}],"max_tokens":8,"seed":3}""");
        using var client = demo.Client();
        using var response = await client.PostAsync("/v1/chat/completions", new ByteArrayContent(request) { Headers = { ContentType = new("application/json") } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsByteArrayAsync();
        if (!stream)
        {
            return (long.Parse(Receipts.Header(response.Headers, "Sios-Log-Index"), CultureInfo.InvariantCulture), request, body);
        }

        var text = Encoding.UTF8.GetString(body);
        var marker = text.IndexOf("\n: sios ", StringComparison.Ordinal);
        Assert.True(marker > 0, text);
        using var comment = JsonDocument.Parse(text[(marker + 1)..].Split('\n')[0][": sios ".Length..]);
        return (comment.RootElement.GetProperty("index").GetInt64(), request, Encoding.UTF8.GetBytes(text[..(marker + 1)]));
    }

    private async Task<string> DiscloseAsync(long index, string name)
    {
        var output = Path.Combine(_work, name);
        var run = await SiosCli.RunAsync("log", "disclose", index.ToString(CultureInfo.InvariantCulture), "--out", output, "--data", demo.Data);
        Assert.True(run.ExitCode == 0, run.Err);
        Assert.Equal(output, run.Out.Trim());
        // Plaintext of an answer: the folder and its files are the operator's alone, whatever the umask.
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(output));
            foreach (var file in Directory.GetFiles(output))
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            }
        }
        return output;
    }

    /// <summary>What a third party receives: the files alone, in a folder of their own.</summary>
    private string CopyOf(string disclosure, string name)
    {
        var copy = Path.Combine(_work, name);
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(disclosure))
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        }

        return copy;
    }

    private Task<(int ExitCode, string Out, string Err)> VerifyAsync(string folder) =>
        SiosCli.RunAsync(["verify", "disclosure", folder, "--receipt", Path.Combine(folder, "receipt.tlog-proof"), .. demo.Vkeys.SelectMany(k => new[] { "--vkey", k.ToString() })]);

    private async Task AssertVerifiesAsync(string folder, long index, byte[] request, byte[] response, bool stream)
    {
        Assert.Equal(request, await File.ReadAllBytesAsync(Path.Combine(folder, "request.bin")));
        Assert.Equal(response, await File.ReadAllBytesAsync(Path.Combine(folder, "response.bin")));
        var run = await VerifyAsync(folder);
        Assert.True(run.ExitCode == 0, run.Err);
        using var summary = JsonDocument.Parse(run.Out);
        Assert.True(summary.RootElement.GetProperty("valid").GetBoolean());
        Assert.Equal(index, summary.RootElement.GetProperty("index").GetInt64());
        Assert.Equal(stream, summary.RootElement.GetProperty("stream").GetBoolean());
        Assert.Equal("demo.sios.local/log", summary.RootElement.GetProperty("origin").GetString());
    }

    private async Task AssertRefusedAsync(string folder, string named)
    {
        var run = await VerifyAsync(folder);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains(named, run.Err, StringComparison.Ordinal);
        using var summary = JsonDocument.Parse(run.Out);
        Assert.False(summary.RootElement.GetProperty("valid").GetBoolean());
        Assert.Contains(named, summary.RootElement.GetProperty("problem").GetString(), StringComparison.Ordinal);
    }

    private static void FlipByte(string file, int at)
    {
        var bytes = File.ReadAllBytes(file);
        bytes[at] ^= 0x01;
        File.WriteAllBytes(file, bytes);
    }

    [Fact]
    public async Task A_plain_answer_disclosed_while_serving_verifies_from_a_copy_with_only_the_vkeys()
    {
        var (index, request, response) = await AnswerAsync(stream: false);
        var disclosure = await DiscloseAsync(index, "plain");
        var copy = CopyOf(disclosure, "plain-copy");
        await AssertVerifiesAsync(copy, index, request, response, stream: false);

        FlipByte(Path.Combine(copy, "response.bin"), response.Length / 2);
        await AssertRefusedAsync(copy, "response.bin");

        var otherCopy = CopyOf(disclosure, "plain-copy-2");
        FlipByte(Path.Combine(otherCopy, "request.bin"), 0);
        await AssertRefusedAsync(otherCopy, "request.bin");
    }

    [Fact]
    public async Task A_streamed_answer_discloses_every_byte_before_the_receipt_comment()
    {
        var (index, request, response) = await AnswerAsync(stream: true);
        var disclosure = await DiscloseAsync(index, "stream");
        var copy = CopyOf(disclosure, "stream-copy");
        await AssertVerifiesAsync(copy, index, request, response, stream: true);

        FlipByte(Path.Combine(copy, "response.bin"), response.Length - 3);
        await AssertRefusedAsync(copy, "response.bin");
    }

    [Fact]
    public async Task Disclosure_works_with_the_server_stopped()
    {
        var (plainIndex, plainRequest, plainResponse) = await AnswerAsync(stream: false);
        var (streamIndex, streamRequest, streamResponse) = await AnswerAsync(stream: true);
        Assert.Equal(0, await demo.StopAsync());
        try
        {
            await AssertVerifiesAsync(CopyOf(await DiscloseAsync(plainIndex, "stopped-plain"), "stopped-plain-copy"), plainIndex, plainRequest, plainResponse, stream: false);
            await AssertVerifiesAsync(CopyOf(await DiscloseAsync(streamIndex, "stopped-stream"), "stopped-stream-copy"), streamIndex, streamRequest, streamResponse, stream: true);
        }
        finally
        {
            await demo.StartAsync();
        }
    }

    [Fact]
    public async Task A_disclosure_with_a_nonce_or_entry_of_another_answer_is_refused()
    {
        var (first, _, _) = await AnswerAsync(stream: false);
        var (second, _, _) = await AnswerAsync(stream: false);
        var one = await DiscloseAsync(first, "first");
        var two = await DiscloseAsync(second, "second");

        var swappedNonce = CopyOf(one, "swapped-nonce");
        File.Copy(Path.Combine(two, "response.nonce"), Path.Combine(swappedNonce, "response.nonce"), overwrite: true);
        await AssertRefusedAsync(swappedNonce, "response.bin");

        var swappedEntry = CopyOf(one, "swapped-entry");
        File.Copy(Path.Combine(two, "entry.json"), Path.Combine(swappedEntry, "entry.json"), overwrite: true);
        await AssertRefusedAsync(swappedEntry, "entry.json");

        var badNonce = CopyOf(one, "bad-nonce");
        await File.WriteAllTextAsync(Path.Combine(badNonce, "request.nonce"), "not base64!");
        await AssertRefusedAsync(badNonce, "request.nonce");
    }

    [Fact]
    public async Task Entries_that_are_not_answers_or_whose_content_is_gone_are_refused()
    {
        // Entry 0 of the demo log is its first brain.registered.
        var notAnswer = await SiosCli.RunAsync("log", "disclose", "0", "--out", Path.Combine(_work, "zero"), "--data", demo.Data);
        Assert.Equal(3, notAnswer.ExitCode);
        Assert.Contains("not an 'inference' entry", notAnswer.Err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_work, "zero")));

        var (index, _, _) = await AnswerAsync(stream: false);
        var vaultFiles = Directory.GetFiles(Path.Combine(demo.Data, "vault"), "*.vault");
        var entry = await demo.EntryAsync(index);
        var file = vaultFiles.Single(f => Path.GetFileNameWithoutExtension(f) == entry.GetProperty("id").GetString());

        FlipByte(file, 50);
        var tampered = await SiosCli.RunAsync("log", "disclose", index.ToString(CultureInfo.InvariantCulture), "--out", Path.Combine(_work, "tampered"), "--data", demo.Data);
        Assert.Equal(1, tampered.ExitCode);
        Assert.Contains("does not decrypt", tampered.Err, StringComparison.Ordinal);

        File.Delete(file);
        var gone = await SiosCli.RunAsync("log", "disclose", index.ToString(CultureInfo.InvariantCulture), "--out", Path.Combine(_work, "gone"), "--data", demo.Data);
        Assert.Equal(3, gone.ExitCode);
        Assert.Contains("is not in the vault", gone.Err, StringComparison.Ordinal);

        Directory.CreateDirectory(Path.Combine(_work, "busy"));
        await File.WriteAllTextAsync(Path.Combine(_work, "busy", "keep.txt"), "mine");
        var busy = await SiosCli.RunAsync("log", "disclose", index.ToString(CultureInfo.InvariantCulture), "--out", Path.Combine(_work, "busy"), "--data", demo.Data);
        Assert.Equal(2, busy.ExitCode);
    }
}
