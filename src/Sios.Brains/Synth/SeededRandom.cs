namespace Sios.Brains.Synth;

/// <summary>
/// SplitMix64: a tiny PRNG whose output is fixed by its definition, so synthesized weights are the same
/// bytes on every runtime and platform (System.Random makes no such promise across versions).
/// </summary>
public sealed class SeededRandom
{
    private ulong _state;

    /// <summary>Starts the sequence at <paramref name="seed"/>.</summary>
    public SeededRandom(ulong seed) => _state = seed;

    /// <summary>A generator for one named stream (e.g. a tensor), independent of the order streams are drawn in.</summary>
    public static SeededRandom ForStream(ulong seed, string stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var h = 0xcbf29ce484222325UL;
        foreach (var c in stream)
        {
            h = (h ^ c) * 0x100000001b3UL;
        }

        return new SeededRandom(seed ^ h);
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A float uniform in [-1, 1), from 24 random bits so it is exact in single precision.</summary>
    public float NextSigned() => ((NextUInt64() >> 40) * (1.0f / (1 << 23))) - 1.0f;

    /// <summary><paramref name="count"/> values uniform in [-<paramref name="bound"/>, <paramref name="bound"/>).</summary>
    public float[] Uniform(long count, float bound)
    {
        var values = new float[count];
        for (long i = 0; i < count; i++)
        {
            values[i] = NextSigned() * bound;
        }

        return values;
    }
}
