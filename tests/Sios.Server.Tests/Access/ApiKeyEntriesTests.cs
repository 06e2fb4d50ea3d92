using System.Text;
using System.Text.Json;
using Sios.Server.Access;

namespace Sios.Server.Tests.Access;

public sealed class ApiKeyEntriesTests
{
    private static readonly FixedClock Clock = new(new DateTimeOffset(2026, 11, 26, 10, 0, 0, 123, TimeSpan.Zero));

    private static ApiKeyRecord Key(int? rpm = null, int? tpm = null) => new()
    {
        Id = "0123456789ab",
        Name = "clinic-app",
        Role = ApiKeyRole.Auditor,
        Brains = ["medic", "triage"],
        Created = Clock.Now,
        SecretSha256 = new string('c', 64),
        Rpm = rpm,
        Tpm = tpm,
    };

    [Fact]
    public void Key_created_names_the_key_and_its_scope_by_the_operator()
    {
        var bytes = ApiKeyEntries.Created(Key(), Clock);
        var text = Encoding.UTF8.GetString(bytes);
        using var json = JsonDocument.Parse(bytes);
        var id = json.RootElement.GetProperty("id").GetString();
        Assert.Equal(
            $$"""{"v":1,"type":"key.created","id":"{{id}}","time":"2026-11-26T10:00:00.123Z","actor":"operator","key_id":"0123456789ab","name":"clinic-app","role":"auditor","brains":["medic","triage"]}""",
            text);
    }

    [Fact]
    public void Key_revoked_has_the_same_members_and_limits_appear_when_set()
    {
        using var json = JsonDocument.Parse(ApiKeyEntries.Revoked(Key(rpm: 60, tpm: 1000), Clock));
        var root = json.RootElement;
        Assert.Equal("key.revoked", root.GetProperty("type").GetString());
        Assert.Equal("operator", root.GetProperty("actor").GetString());
        Assert.Equal("0123456789ab", root.GetProperty("key_id").GetString());
        Assert.Equal(60, root.GetProperty("rpm").GetInt32());
        Assert.Equal(1000, root.GetProperty("tpm").GetInt32());
    }

    [Fact]
    public void Neither_entry_holds_the_secret_hash()
    {
        var key = Key();
        foreach (var entry in new[] { ApiKeyEntries.Created(key), ApiKeyEntries.Revoked(key) })
        {
            var text = Encoding.UTF8.GetString(entry);
            Assert.DoesNotContain(key.SecretSha256, text, StringComparison.Ordinal);
            Assert.DoesNotContain("secret", text, StringComparison.OrdinalIgnoreCase);
        }
    }
}
