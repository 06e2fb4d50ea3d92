namespace Sios.Brains.Engines;

/// <summary>L2 normalisation shared by every engine, so embeddings from any brain compare by dot product.</summary>
internal static class EmbeddingVector
{
    /// <summary>Scales <paramref name="vector"/> to unit length (a zero vector stays zero).</summary>
    public static void NormaliseInPlace(Span<float> vector)
    {
        double sum = 0;
        foreach (var v in vector)
        {
            sum += v * (double)v;
        }

        var norm = Math.Sqrt(sum);
        if (norm > 0)
        {
            for (var i = 0; i < vector.Length; i++)
            {
                vector[i] = (float)(vector[i] / norm);
            }
        }
    }

    /// <summary>A unit-length copy of <paramref name="vector"/>.</summary>
    public static float[] Normalised(ReadOnlySpan<float> vector)
    {
        var result = vector.ToArray();
        NormaliseInPlace(result);
        return result;
    }
}
