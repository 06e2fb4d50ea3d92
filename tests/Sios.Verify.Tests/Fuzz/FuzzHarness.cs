using System.Text;
using CsCheck;

namespace Sios.Tests.Fuzz;

/// <summary>
/// Time-bounded mutation fuzzing with CsCheck: valid artefacts are bit-flipped, truncated, spliced, overwritten or
/// replaced by random bytes or random text, and fed to a parser that may only succeed or throw its documented type.
/// SIOS_FUZZ_SECONDS sets the time per parser (default 2).
/// </summary>
internal static class FuzzHarness
{
    public static int Seconds =>
        int.TryParse(Environment.GetEnvironmentVariable("SIOS_FUZZ_SECONDS"), System.Globalization.CultureInfo.InvariantCulture, out var s) && s > 0 ? s : 2;

    /// <summary>Mutants of the given valid inputs, plus fully random bytes and random UTF-8 text.</summary>
    public static Gen<byte[]> Mutants(params byte[][] seeds)
    {
        var seed = Gen.Int[0, seeds.Length - 1].Select(i => seeds[i]);
        var flips = Gen.Select(seed, Gen.Int[1, 8].SelectMany(n => Gen.Select(Gen.Int.Positive, Gen.Byte[1, 255]).Array[n])).Select((s, edits) =>
        {
            var copy = (byte[])s.Clone();
            foreach (var (at, mask) in edits)
            {
                if (copy.Length > 0)
                {
                    copy[at % copy.Length] ^= mask;
                }
            }

            return copy;
        });
        var truncated = Gen.Select(seed, Gen.Int.Positive).Select((s, n) => s[..(s.Length == 0 ? 0 : n % s.Length)]);
        var spliced = Gen.Select(seed, seed, Gen.Int.Positive, Gen.Int.Positive).Select((a, b, i, j) =>
            (byte[])[.. a.AsSpan(0, a.Length == 0 ? 0 : i % a.Length), .. b.AsSpan(b.Length == 0 ? 0 : j % b.Length)]);
        var inserted = Gen.Select(seed, Gen.Int.Positive, Gen.Byte.Array[1, 64]).Select((s, i, extra) =>
            (byte[])[.. s.AsSpan(0, s.Length == 0 ? 0 : i % s.Length), .. extra, .. s.AsSpan(s.Length == 0 ? 0 : i % s.Length)]);
        var lines = Gen.Select(seed, Gen.Int.Positive, Gen.Int.Positive).Select((s, i, j) =>
        {
            // Duplicates or drops whole lines, which keeps most of the format intact and reaches deeper checks.
            var parts = Encoding.UTF8.GetString(s).Split('\n').ToList();
            var k = i % parts.Count;
            if (j % 2 == 0)
            {
                parts.Insert(k, parts[j % parts.Count]);
            }
            else
            {
                parts.RemoveAt(k);
            }

            return Encoding.UTF8.GetBytes(string.Join('\n', parts));
        });
        return Gen.OneOf(flips, flips, truncated, spliced, inserted, lines, Gen.Byte.Array[0, 512], Gen.String.Select(Encoding.UTF8.GetBytes));
    }

    /// <summary>
    /// Feeds generated inputs to <paramref name="parse"/> for the configured time; any exception not of an allowed
    /// type fails the test with the input that caused it. Returns the number of executions.
    /// </summary>
    public static long Run(Gen<byte[]> inputs, Action<byte[]> parse, params Type[] allowed)
    {
        long executions = 0;
        inputs.Sample(input =>
        {
            Interlocked.Increment(ref executions);
            try
            {
                parse(input);
            }
            catch (Exception e) when (allowed.Any(t => t.IsInstanceOfType(e)))
            {
                // The documented rejection: fine.
            }
            catch (Exception e)
            {
                throw new InvalidOperationException($"{e.GetType().Name} on input {Convert.ToBase64String(input)}: {e.Message}", e);
            }
        }, time: Seconds);
        return executions;
    }
}
