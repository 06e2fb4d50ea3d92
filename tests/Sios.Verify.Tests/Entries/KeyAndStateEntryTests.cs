using System.Text;
using Sios.Verify.Entries;
using Sios.Verify.Notes;
using Sios.Verify.Rotation;

namespace Sios.Verify.Tests.Entries;

public sealed class KeyAndStateEntryTests
{
    private const string CreatedWithLimits = """{"v":1,"type":"key.created","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"operator","key_id":"a1b2c3d4e5f6","name":"team-a","role":"auditor","brains":["qwen","*"],"rpm":60,"tpm":10000}""";

    private const string CreatedPlain = """{"v":1,"type":"key.created","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"operator","key_id":"a1b2c3d4e5f6","name":"team-a","role":"user","brains":[]}""";

    private const string Revoked = """{"v":1,"type":"key.revoked","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"operator","key_id":"a1b2c3d4e5f6","name":"team-a","role":"admin","brains":["qwen","*"],"rpm":60,"tpm":10000}""";

    private const string Rotated = """{"v":1,"type":"signer.rotated","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"operator","old":["ministry.example/sios-1\u002Ba5d373a7\u002BAfj5\u002Bvv8/f7/AAECAwQFBgcICQoLDA0ODxAREhMUFRYX"],"new":["ministry.example/sios-1\u002Bfb626872\u002BAQAHDhUcIyoxOD9GTVRbYmlwd36FjJOaoaivtr3Ey9LZ","ministry.example/sios-1\u002Ba5d373a7\u002BAfj5\u002Bvv8/f7/AAECAwQFBgcICQoLDA0ODxAREhMUFRYX"]}""";

    private const string Added = """{"v":1,"type":"signer.added","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"operator","vkey":"example.com/foo\u002B530d903a\u002BAekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"}""";

    private const string StateRefused = """{"v":1,"type":"state.refused","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"system","file":"api-keys","reason":"the file\u0027s MAC \u003Cfails\u003E"}""";

    private const string StateAdopted = """{"v":1,"type":"state.adopted","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"operator","file":"brains","items":3,"sha256":"sha256:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"}""";

    private const string TailDiscarded = """{"v":1,"type":"log.tail.discarded","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"operator","from":1000,"count":3,"sha256":"0000000000000000000000000000000000000000000000000000000000000000","reason":"not authenticated as this log\u0027s own work (no matching tail seal)"}""";

    private const string GuardMissing = """{"v":1,"type":"log.guard.missing","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"system","size":1234,"file":"log/published.checkpoint"}""";

    private const string WitnessRefused = """{"v":1,"type":"witness.refused","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"system","witness":"witness.example/w1","status":409,"size":77}""";

    private static readonly VerifierKey OldKey = VerifierKey.Parse("ministry.example/sios-1+a5d373a7+Afj5+vv8/f7/AAECAwQFBgcICQoLDA0ODxAREhMUFRYX");
    private static readonly VerifierKey NewKey = VerifierKey.Parse("ministry.example/sios-1+fb626872+AQAHDhUcIyoxOD9GTVRbYmlwd36FjJOaoaivtr3Ey9LZ");

    [Fact]
    public void Key_entries_are_written_byte_for_byte_and_read_back()
    {
        var scope = new KeyScope("a1b2c3d4e5f6", "team-a", "auditor", ["qwen", "*"], 60, 10000);
        var created = Golden.Check(new KeyCreatedEntry(scope), CreatedWithLimits, KeyCreatedEntry.Read).Body.Key;
        Assert.Equal((60, 10000), (created.Rpm, created.Tpm));
        var plain = Golden.Check(new KeyCreatedEntry(scope with { Role = "user", Brains = [], Rpm = null, Tpm = null }), CreatedPlain, KeyCreatedEntry.Read).Body.Key;
        Assert.Empty(plain.Brains);
        Assert.Null(plain.Tpm);
        var revoked = Golden.Check(new KeyRevokedEntry(scope with { Role = "admin" }), Revoked, KeyRevokedEntry.Read);
        Assert.Equal("a1b2c3d4e5f6", revoked.Body.Key.KeyId);
        Assert.Equal(Golden.Now, revoked.Header.Time);
    }

    [Theory]
    [InlineData("\"key_id\":\"a1b2c3d4e5f6\",")]
    [InlineData("\"name\":\"team-a\",")]
    [InlineData("\"role\":\"admin\",")]
    [InlineData("\"brains\":[\"qwen\",\"*\"],")]
    public void A_revocation_missing_a_member_it_needs_is_refused(string member) =>
        Golden.RefusedWithout(Revoked, member, KeyRevokedEntry.Read);

    [Fact]
    public void A_revocation_is_not_a_creation()
    {
        Assert.False(KeyCreatedEntry.TryRead(Encoding.UTF8.GetBytes(Revoked), out _));
        Assert.True(KeyRevokedEntry.TryRead(Encoding.UTF8.GetBytes(Revoked), out _));
    }

    [Fact]
    public void A_rotation_is_written_byte_for_byte_with_its_vkeys_escaped_and_read_back()
    {
        var read = Golden.Check(new SignerRotatedEntry([OldKey], [NewKey, OldKey]), Rotated, SignerRotatedEntry.Read).Body;
        Assert.Equal([OldKey.ToString()], read.OldKeys.Select(k => k.ToString()));
        Assert.Equal([NewKey.ToString(), OldKey.ToString()], read.NewKeys.Select(k => k.ToString()));
        Assert.True(SignerRotatedEntry.IsRotation(Encoding.UTF8.GetBytes(Rotated)));
        Golden.RefusedWithout(Rotated, "\"ministry.example/sios-1\\u002Ba5d373a7\\u002BAfj5\\u002Bvv8/f7/AAECAwQFBgcICQoLDA0ODxAREhMUFRYX\"],", SignerRotatedEntry.Read);
    }

    [Fact]
    public void A_key_addition_is_written_byte_for_byte_and_read_back()
    {
        var key = VerifierKey.Parse("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k");
        var read = Golden.Check(new SignerAddedEntry(key), Added, SignerAddedEntry.Read).Body;
        Assert.Equal(key.ToString(), read.Key.ToString());
        Assert.Equal(NoteKeyKind.Ed25519, read.Key.Kind);
        Assert.True(SignerAddedEntry.IsAddition(Encoding.UTF8.GetBytes(Added)));
        Assert.False(SignerAddedEntry.IsAddition(Encoding.UTF8.GetBytes(Rotated)));
        Golden.RefusedWithout(Added, ",\"vkey\":\"example.com/foo\\u002B530d903a\\u002BAekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k\"", SignerAddedEntry.Read);
    }

    [Fact]
    public void State_entries_are_written_byte_for_byte_and_read_back()
    {
        Assert.Equal("the file's MAC <fails>", Golden.Check(new StateRefusedEntry("api-keys", "the file's MAC <fails>"), StateRefused, StateRefusedEntry.Read).Body.Reason);
        Assert.Equal(3, Golden.Check(new StateAdoptedEntry("brains", 3, "sha256:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"), StateAdopted, StateAdoptedEntry.Read).Body.Items);
        Golden.RefusedWithout(StateRefused, "\"file\":\"api-keys\",", StateRefusedEntry.Read);
        Golden.RefusedWithout(StateAdopted, "\"items\":3,", StateAdoptedEntry.Read);
    }

    [Fact]
    public void Log_repair_entries_are_written_byte_for_byte_and_read_back()
    {
        var discarded = new LogTailDiscardedEntry(1000, 3, new string('0', 64), "not authenticated as this log's own work (no matching tail seal)");
        var read = Golden.Check(discarded, TailDiscarded, LogTailDiscardedEntry.Read).Body;
        Assert.Equal((1000L, 3L), (read.From, read.Count));
        Assert.Equal(1234, Golden.Check(new LogGuardMissingEntry(1234, "log/published.checkpoint"), GuardMissing, LogGuardMissingEntry.Read).Body.Size);
        Golden.RefusedWithout(TailDiscarded, "\"from\":1000,", LogTailDiscardedEntry.Read);
        Golden.RefusedWithout(GuardMissing, "\"size\":1234,", LogGuardMissingEntry.Read);
    }

    [Fact]
    public void A_witness_refusal_is_written_byte_for_byte_and_read_back()
    {
        Assert.Equal(77, Golden.Check(new WitnessRefusedEntry("witness.example/w1", 409, 77), WitnessRefused, WitnessRefusedEntry.Read).Body.Size);
        Golden.RefusedWithout(WitnessRefused, "\"status\":409,", WitnessRefusedEntry.Read);
    }
}
