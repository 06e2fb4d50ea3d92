namespace Sios.Verify;

/// <summary>
/// The one way SIOS reads a remote answer (a log's tiles, a witness's cosignatures, a TSA's reply): never more than a
/// cap, whatever Content-Length says or omits, and growing only with what actually arrives.
/// </summary>
public static class HttpBodies
{
    /// <summary>The first <paramref name="limit"/> bytes of <paramref name="content"/> (all of it when shorter); ask for one more than the largest valid answer to tell "too large" from "exactly full".</summary>
    public static async Task<byte[]> ReadCappedAsync(HttpContent content, int limit, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        var stream = await content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var copy = new MemoryStream();
            var buffer = new byte[Math.Min(limit, 81920)];
            while (copy.Length < limit && await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, limit - copy.Length)), ct).ConfigureAwait(false) is > 0 and var n)
            {
                copy.Write(buffer, 0, n);
            }

            return copy.ToArray();
        }
    }
}
