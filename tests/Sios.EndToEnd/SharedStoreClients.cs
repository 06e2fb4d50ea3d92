using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Sios.Verify.Receipts;

namespace Sios.EndToEnd;

/// <summary>What a client of several nodes on one store does: ask one node, fetch a receipt from another.</summary>
internal static class SharedStoreClients
{
    public static StringContent Question() => new(
        JsonSerializer.Serialize(new { model = "demo", max_tokens = 2, messages = new[] { new { role = "user", content = "which node?" } } }), Encoding.UTF8, "application/json");

    public static async Task<long> AskAsync(HttpClient client, CancellationToken ct)
    {
        using var answer = await client.PostAsync("/v1/chat/completions", Question(), ct);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        return long.Parse(Receipts.Header(answer.Headers, "Sios-Log-Index"), CultureInfo.InvariantCulture);
    }

    // A node learns of the other's checkpoints within a follow interval; until then the entry is not yet under its checkpoint.
    public static async Task<byte[]> ReceiptAsync(HttpClient client, long index, CancellationToken ct)
    {
        while (true)
        {
            using var response = await client.GetAsync($"/log/receipts/{index}", ct);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return await response.Content.ReadAsByteArrayAsync(ct);
            }

            await Task.Delay(100, ct);
        }
    }
}
