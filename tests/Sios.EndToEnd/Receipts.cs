using System.Net.Http.Headers;
using System.Text.Json;
using Sios.Verify.Commitments;
using Sios.Verify.Receipts;

namespace Sios.EndToEnd;

/// <summary>What an answer's receipt proves, checked the way a client would: offline, from the vkeys and the exact bytes.</summary>
internal static class Receipts
{
    /// <summary>
    /// Fetches the receipt the headers point to, verifies it with the vkeys alone, and checks the sealed entry's
    /// commitments against the exact request and response bytes with the nonces the server sent. Returns the entry.
    /// </summary>
    public static async Task<JsonElement> VerifyAnswerAsync(ServedDemo demo, HttpResponseHeaders headers, byte[] request, byte[] response, string? key = null)
    {
        var index = long.Parse(Header(headers, "Sios-Log-Index"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal($"/log/receipts/{index}", Header(headers, "Sios-Receipt"));
        return await VerifyAsync(demo, index, Header(headers, "Sios-Request-Nonce"), Header(headers, "Sios-Response-Nonce"), request, response, key);
    }

    public static async Task<JsonElement> VerifyAsync(ServedDemo demo, long index, string requestNonce, string responseNonce, byte[] request, byte[] response, string? key = null)
    {
        using var client = demo.Client(key);
        var receipt = await client.GetByteArrayAsync($"/log/receipts/{index}");
        var verified = new ReceiptVerifier(demo.Vkeys).Verify(receipt);
        Assert.Equal(index, verified.Index);
        using var doc = JsonDocument.Parse(verified.Entry);
        var entry = doc.RootElement.Clone();
        Assert.Equal("inference", entry.GetProperty("type").GetString());
        Assert.True(Commitment.Matches(entry.GetProperty("request").GetString()!, Convert.FromBase64String(requestNonce), request), "the request commitment does not match the bytes sent");
        Assert.True(Commitment.Matches(entry.GetProperty("response").GetString()!, Convert.FromBase64String(responseNonce), response), "the response commitment does not match the bytes received");
        return entry;
    }

    public static string Header(HttpResponseHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.Single() : throw new Xunit.Sdk.XunitException($"no {name} header");
}
