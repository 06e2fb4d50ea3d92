using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Sios.Server.Access;

namespace Sios.Server.Tests.Gateway;

/// <summary>
/// <c>/admin/keys</c> and <c>/status</c>, the console's doors to key administration and to the node's own account: an
/// admin key makes and revokes keys through the same sealed path as the CLI (the entry naming the admin key as actor),
/// every other key is refused with nothing sealed, a malformed request seals nothing, and no listing carries a secret.
/// </summary>
public sealed class AdminKeyTests
{
    [Fact]
    public async Task An_admin_key_makes_and_revokes_a_key_each_change_sealed_with_the_admin_as_actor()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        using var admin = gateway.Client();
        var adminId = (await ListAsync(admin)).Single(k => k.GetProperty("name").GetString() == "admin").GetProperty("id").GetString();

        using var made = await admin.PostAsync("/admin/keys", Json("""{"name":"alice","role":"user","brains":["tiny"],"rpm":7}"""));
        Assert.Equal(HttpStatusCode.OK, made.StatusCode);
        using var created = JsonDocument.Parse(await made.Content.ReadAsStringAsync());
        var secret = created.RootElement.GetProperty("secret").GetString()!;
        var index = created.RootElement.GetProperty("index").GetInt64();
        using (var entry = await EntryAsync(gateway, index))
        {
            Assert.Equal("key.created", entry.RootElement.GetProperty("type").GetString());
            Assert.Equal($"key:{adminId}", entry.RootElement.GetProperty("actor").GetString());
            Assert.Equal("alice", entry.RootElement.GetProperty("name").GetString());
            Assert.Equal(7, entry.RootElement.GetProperty("rpm").GetInt32());
        }

        using var alice = new HttpClient { BaseAddress = gateway.Url };
        alice.DefaultRequestHeaders.Authorization = new("Bearer", secret);
        Assert.Equal(HttpStatusCode.OK, (await alice.GetAsync("/v1/models")).StatusCode);

        var listing = await admin.GetStringAsync("/admin/keys");
        Assert.DoesNotContain(secret, listing, StringComparison.Ordinal);
        Assert.DoesNotContain(secret[^20..], listing, StringComparison.Ordinal);
        Assert.DoesNotContain("sha256", listing, StringComparison.OrdinalIgnoreCase);
        var listed = (await ListAsync(admin)).Single(k => k.GetProperty("name").GetString() == "alice");
        Assert.Equal("user", listed.GetProperty("role").GetString());
        Assert.Equal(7, listed.GetProperty("rpm").GetInt32());
        Assert.Equal(JsonValueKind.Null, listed.GetProperty("revoked").ValueKind);

        using var revoked = await admin.PostAsync("/admin/keys/alice/revoke", null);
        Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        var revokedAt = JsonDocument.Parse(await revoked.Content.ReadAsStringAsync()).RootElement.GetProperty("index").GetInt64();
        using (var entry = await EntryAsync(gateway, revokedAt))
        {
            Assert.Equal("key.revoked", entry.RootElement.GetProperty("type").GetString());
            Assert.Equal($"key:{adminId}", entry.RootElement.GetProperty("actor").GetString());
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await alice.GetAsync("/v1/models")).StatusCode);
        Assert.NotEqual(JsonValueKind.Null, (await ListAsync(admin)).Single(k => k.GetProperty("name").GetString() == "alice").GetProperty("revoked").ValueKind);
    }

    [Theory]
    [InlineData("user")]
    [InlineData("auditor")]
    public async Task Only_admin_keys_manage_keys_and_a_refusal_seals_nothing(string role)
    {
        await using var gateway = await InProcessGateway.StartAsync();
        using var admin = gateway.Client();
        var made = JsonDocument.Parse(await (await admin.PostAsync("/admin/keys", Json($$"""{"name":"other","role":"{{role}}","brains":["*"]}"""))).Content.ReadAsStringAsync());
        using var other = new HttpClient { BaseAddress = gateway.Url };
        other.DefaultRequestHeaders.Authorization = new("Bearer", made.RootElement.GetProperty("secret").GetString());
        using var anonymous = new HttpClient { BaseAddress = gateway.Url };
        var size = gateway.Log.Latest.Size;

        foreach (var (client, status) in new[] { (other, HttpStatusCode.Forbidden), (anonymous, HttpStatusCode.Unauthorized) })
        {
            Assert.Equal(status, (await client.GetAsync("/admin/keys")).StatusCode);
            Assert.Equal(status, (await client.PostAsync("/admin/keys", Json("""{"name":"mallory","role":"admin","brains":["*"]}"""))).StatusCode);
            Assert.Equal(status, (await client.PostAsync("/admin/keys/admin/revoke", null)).StatusCode);
        }

        Assert.Equal(size, gateway.Log.Latest.Size);
        Assert.Equal(role == "auditor" ? HttpStatusCode.OK : HttpStatusCode.Forbidden, (await other.GetAsync("/status")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/status")).StatusCode);
    }

    [Theory]
    [InlineData("""{"role":"user","brains":["*"]}""", HttpStatusCode.BadRequest)]
    [InlineData("""{"name":"x","role":"root","brains":["*"]}""", HttpStatusCode.BadRequest)]
    [InlineData("""{"name":"x","role":"user"}""", HttpStatusCode.BadRequest)]
    [InlineData("""{"name":"x","brains":["nosuch"]}""", HttpStatusCode.BadRequest)]
    [InlineData("""{"name":"x","brains":["*"],"rpm":0}""", HttpStatusCode.BadRequest)]
    [InlineData("""{"name":"bad name!","brains":["*"]}""", HttpStatusCode.BadRequest)]
    [InlineData("""{"name":"admin","brains":["*"]}""", HttpStatusCode.Conflict)]
    [InlineData("""[1,2]""", HttpStatusCode.BadRequest)]
    [InlineData("""{"name":""", HttpStatusCode.BadRequest)]
    public async Task A_malformed_or_conflicting_request_is_refused_and_seals_nothing(string body, HttpStatusCode status)
    {
        await using var gateway = await InProcessGateway.StartAsync();
        using var admin = gateway.Client();
        var size = gateway.Log.Latest.Size;
        using var response = await admin.PostAsync("/admin/keys", Json(body));
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsync("/admin/keys/nobody/revoke", null)).StatusCode);
        Assert.Equal(size, gateway.Log.Latest.Size);
    }

    [Fact]
    public async Task Status_reports_the_brains_pins_memory_and_egress_and_no_attestation_when_none_was_sealed()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        using var admin = gateway.Client();
        using var status = JsonDocument.Parse(await admin.GetStringAsync("/status"));
        var root = status.RootElement;
        Assert.Equal("gateway.test/log", root.GetProperty("origin").GetString());
        var brain = root.GetProperty("brains").EnumerateArray().Single();
        Assert.Equal("tiny", brain.GetProperty("name").GetString());
        Assert.Equal("local", brain.GetProperty("kind").GetString());
        Assert.StartsWith("sha256:", brain.GetProperty("weights").GetString(), StringComparison.Ordinal);
        Assert.False(brain.GetProperty("loaded").GetBoolean());
        Assert.True(root.GetProperty("egress").GetProperty("offline").GetBoolean());
        Assert.True(root.GetProperty("memory").GetProperty("budget_bytes").GetInt64() > 0);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("attestation").ValueKind);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/log/attestation")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/log/signers")).StatusCode);
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task<List<JsonElement>> ListAsync(HttpClient admin) =>
        [.. (await admin.GetFromJsonAsync<JsonElement>("/admin/keys")).GetProperty("keys").EnumerateArray()];

    private static async Task<JsonDocument> EntryAsync(InProcessGateway gateway, long index) =>
        JsonDocument.Parse((await gateway.Log.Reader.ReadEntriesAsync(index, 1))[0]);
}
