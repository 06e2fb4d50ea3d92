using Sios.Tests.Shared;
using Sios.Verify;
using Sios.Verify.Disclosure;

namespace Sios.EndToEnd;

// The console's verifier (web/console/src/verify.js) and Sios.Verify on the same disclosures, genuine and altered:
// they must agree on every one, neither being the other's oracle.
public sealed partial class DisclosureTests
{
    [ConsoleVerifierFact]
    public async Task The_console_verifier_and_Sios_Verify_agree_on_genuine_and_altered_disclosures()
    {
        var folders = new List<string>();
        foreach (var stream in new[] { false, true })
        {
            var (index, _, _) = await AnswerAsync(stream);
            var genuine = CopyOf(await DiscloseAsync(index, $"console-{stream}"), $"console-genuine-{stream}");
            folders.Add(genuine);
            folders.AddRange(Altered(genuine, stream ? "stream" : "whole"));
        }

        var vkeys = Path.Combine(_work, "console-vkeys");
        await File.WriteAllLinesAsync(vkeys, demo.Vkeys.Select(k => k.ToString()));
        var verifier = new DisclosureVerifier(demo.Vkeys);
        var verdicts = await ConsoleVerdicts.RunAsync(NpmClient.ConsoleFolder!, "test/verify-disclosures.mjs", vkeys, folders);
        var accepted = await ConsoleVerdicts.AssertAgreeAsync(verdicts, async folder =>
        {
            try
            {
                verifier.Verify(await File.ReadAllBytesAsync(Path.Combine(folder, DisclosedContent.ReceiptFile)), DisclosedContent.ReadFolder(folder));
                return null;
            }
            catch (Exception e) when (e is VerificationException or FormatViolationException or FileNotFoundException)
            {
                return e.Message;
            }
        });

        Assert.Equal(2, accepted);
    }

    /// <summary>Copies of a genuine disclosure, each changed in one way that must make it fail.</summary>
    private IEnumerable<string> Altered(string genuine, string tag)
    {
        string Variant(string name, Action<string> change)
        {
            var copy = CopyOf(genuine, $"console-{tag}-{name}");
            change(copy);
            return copy;
        }

        void Flip(string folder, string file, int at)
        {
            var bytes = File.ReadAllBytes(Path.Combine(folder, file));
            bytes[at % bytes.Length] ^= 0x20;
            File.WriteAllBytes(Path.Combine(folder, file), bytes);
        }

        yield return Variant("request-byte", f => Flip(f, DisclosedContent.RequestFile, 11));
        yield return Variant("response-byte", f => Flip(f, DisclosedContent.ResponseFile, 17));
        yield return Variant("response-cut", f => File.WriteAllBytes(Path.Combine(f, DisclosedContent.ResponseFile), File.ReadAllBytes(Path.Combine(f, DisclosedContent.ResponseFile))[..^1]));
        yield return Variant("nonces-swapped", f =>
        {
            var request = File.ReadAllText(Path.Combine(f, DisclosedContent.RequestNonceFile));
            File.Copy(Path.Combine(f, DisclosedContent.ResponseNonceFile), Path.Combine(f, DisclosedContent.RequestNonceFile), overwrite: true);
            File.WriteAllText(Path.Combine(f, DisclosedContent.ResponseNonceFile), request);
        });
        yield return Variant("nonce-not-base64", f => File.WriteAllText(Path.Combine(f, DisclosedContent.RequestNonceFile), "not a nonce\n"));
        yield return Variant("entry-file-other", f => Flip(f, DisclosedContent.EntryFile, 30));
        yield return Variant("receipt-missing", f => File.Delete(Path.Combine(f, DisclosedContent.ReceiptFile)));
        yield return Variant("receipt-byte", f => Flip(f, DisclosedContent.ReceiptFile, 200));
    }
}

/// <summary>Skips, saying why, where node or web/console's npm packages are missing.</summary>
public sealed class ConsoleVerifierFactAttribute : FactAttribute
{
    public ConsoleVerifierFactAttribute()
    {
        if (NpmClient.ConsoleFolder is null)
        {
            Skip = "node or a package of web/console/package.json is missing: run 'npm install' in web/console (.ci/run does)";
        }
    }
}
