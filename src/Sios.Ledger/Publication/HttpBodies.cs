namespace Sios.Ledger.Publication;

/// <summary>Reading a remote service's answer without letting it flood the log: never more than a cap.</summary>
internal static class HttpBodies
{
    /// <summary>The first <paramref name="limit"/> bytes of <paramref name="content"/> (all of it when shorter).</summary>
    public static async Task<byte[]> ReadCappedAsync(HttpContent content, int limit, CancellationToken ct)
    {
        var stream = await content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var buffer = new byte[limit];
            var read = 0;
            while (read < buffer.Length && await stream.ReadAsync(buffer.AsMemory(read), ct).ConfigureAwait(false) is > 0 and var n)
            {
                read += n;
            }

            return buffer[..read];
        }
    }
}
