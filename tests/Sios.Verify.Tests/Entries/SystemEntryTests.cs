using Sios.Verify.Attestations;
using Sios.Verify.Entries;
using Sios.Verify.Notes;

namespace Sios.Verify.Tests.Entries;

public sealed class SystemEntryTests
{
    private const string ConfigChanged = """{"v":1,"type":"config.changed","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"operator","sha256":"sha256:1111111111111111111111111111111111111111111111111111111111111111","previous":"sha256:2222222222222222222222222222222222222222222222222222222222222222"}""";

    private const string Started = """{"v":1,"type":"system.started","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"system","version":"0.1.0\u002Babc","config":"sha256:1111111111111111111111111111111111111111111111111111111111111111","egress":"none","listen":["http://127.0.0.1:8080","http://[::1]:8080"]}""";

    private const string Stopped = """{"v":1,"type":"system.stopped","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"system","version":"0.1.0\u002Babc","config":"sha256:1111111111111111111111111111111111111111111111111111111111111111","egress":"none","listen":["http://127.0.0.1:8080","http://[::1]:8080"]}""";

    private const string Note = """{"v":1,"type":"operator.note","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"operator","text":"h\u00E9 \u0022quoted\u0022 \u003Cb\u003E \u0026 \u002B"}""";

    private const string EgressRefused = """{"v":1,"type":"egress.refused","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"system","host":"evil.example","port":443,"addresses":["203.0.113.7","2001:db8::1"],"suppressed":5}""";

    private const string VaultPurged = """{"v":1,"type":"vault.purged","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"system","count":17,"before":"2026-10-27T10:00:00.123Z","retention_days":30}""";

    private const string Attestation = """{"v":1,"type":"attestation","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"system","statement":"sha256:5555555555555555555555555555555555555555555555555555555555555555","log":{"size":99,"root":"8PDw8PHx8fHy8vLy8/Pz8/T09PT19fX19vb29vf39/c="},"version":"0.1.0\u002Babc","software":"sha256:6666666666666666666666666666666666666666666666666666666666666666","config":"sha256:1111111111111111111111111111111111111111111111111111111111111111","egress":["api.example.org"],"listen":["http://127.0.0.1:8080"],"signers":["ministry.example/sios-1\u002Ba5d373a7\u002BAfj5\u002Bvv8/f7/AAECAwQFBgcICQoLDA0ODxAREhMUFRYX"],"brains":[{"name":"qwen","weights":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","adapter":"sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","disk":"changed"},{"name":"tiny","weights":"sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc","disk":"ok"},{"name":"remote","upstream":"https://llm.example/v1/","model":"big-1"}]}""";

    private static readonly GatewayFacts Gateway = new("0.1.0+abc", "sha256:1111111111111111111111111111111111111111111111111111111111111111", "none", ["http://127.0.0.1:8080", "http://[::1]:8080"]);

    [Fact]
    public void A_config_change_is_written_byte_for_byte_and_read_back()
    {
        var entry = new ConfigChangedEntry("sha256:1111111111111111111111111111111111111111111111111111111111111111", "sha256:2222222222222222222222222222222222222222222222222222222222222222");
        Assert.StartsWith("sha256:2222", Golden.Check(entry, ConfigChanged, ConfigChangedEntry.Read).Body.Previous, StringComparison.Ordinal);
        Golden.RefusedWithout(ConfigChanged, ",\"previous\":\"sha256:2222222222222222222222222222222222222222222222222222222222222222\"", ConfigChangedEntry.Read);
    }

    [Fact]
    public void Starts_and_stops_are_written_byte_for_byte_and_read_back()
    {
        Assert.Equal(Gateway.Listen, Golden.Check(new SystemStartedEntry(Gateway), Started, SystemStartedEntry.Read).Body.Gateway.Listen);
        Assert.Equal("0.1.0+abc", Golden.Check(new SystemStoppedEntry(Gateway), Stopped, SystemStoppedEntry.Read).Body.Gateway.Version);
        Golden.RefusedWithout(Started, "\"egress\":\"none\",", SystemStartedEntry.Read);
        Golden.RefusedWithout(Stopped, ",\"listen\":[\"http://127.0.0.1:8080\",\"http://[::1]:8080\"]", SystemStoppedEntry.Read);
    }

    [Fact]
    public void A_note_keeps_the_default_escaping_byte_for_byte()
    {
        Assert.Equal("hé \"quoted\" <b> & +", Golden.Check(new OperatorNoteEntry("hé \"quoted\" <b> & +"), Note, OperatorNoteEntry.Read).Body.Text);
        Golden.RefusedWithout(Note, ",\"text\":\"h\\u00E9 \\u0022quoted\\u0022 \\u003Cb\\u003E \\u0026 \\u002B\"", OperatorNoteEntry.Read);
    }

    [Fact]
    public void An_egress_refusal_is_written_byte_for_byte_and_read_back()
    {
        var read = Golden.Check(new EgressRefusedEntry("evil.example", 443, ["203.0.113.7", "2001:db8::1"], 5), EgressRefused, EgressRefusedEntry.Read).Body;
        Assert.Equal((443, 5), (read.Port, read.Suppressed));
        Golden.RefusedWithout(EgressRefused, ",\"suppressed\":5", EgressRefusedEntry.Read);
    }

    [Fact]
    public void A_vault_purge_is_written_byte_for_byte_and_read_back()
    {
        var before = new DateTimeOffset(2026, 10, 27, 10, 0, 0, 123, TimeSpan.Zero);
        Assert.Equal(before, Golden.Check(new VaultPurgedEntry(17, before, 30), VaultPurged, VaultPurgedEntry.Read).Body.Before);
        Golden.RefusedWithout(VaultPurged, "\"count\":17,", VaultPurgedEntry.Read);
        var badTime = System.Text.Encoding.UTF8.GetBytes(VaultPurged.Replace("2026-10-27T10:00:00.123Z", "yesterday", StringComparison.Ordinal));
        Assert.Throws<FormatViolationException>(() => VaultPurgedEntry.Read(badTime));
    }

    [Fact]
    public void An_attestation_is_written_byte_for_byte_and_read_back()
    {
        var signer = VerifierKey.Parse("ministry.example/sios-1+a5d373a7+Afj5+vv8/f7/AAECAwQFBgcICQoLDA0ODxAREhMUFRYX");
        AttestedBrain[] brains =
        [
            AttestedBrain.Local("qwen", "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", DiskState.Changed),
            AttestedBrain.Local("tiny", "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc", null, DiskState.Ok),
            AttestedBrain.Remote("remote", "https://llm.example/v1/", "big-1"),
        ];
        var root = Enumerable.Range(0, 32).Select(i => (byte)(0xf0 + (i / 4))).ToArray();
        var entry = new AttestationEntry(
            "system", "sha256:5555555555555555555555555555555555555555555555555555555555555555", 99, root, "0.1.0+abc",
            "sha256:6666666666666666666666666666666666666666666666666666666666666666", "sha256:1111111111111111111111111111111111111111111111111111111111111111",
            ["api.example.org"], ["http://127.0.0.1:8080"], [signer], brains);
        var read = Golden.Check(entry, Attestation, AttestationEntry.Read).Body;
        Assert.Equal(root, read.LogRoot);
        Assert.Equal(brains, read.Brains);
        Assert.Equal(signer.ToString(), Assert.Single(read.Signers).ToString());
        Golden.RefusedWithout(Attestation, ",\"disk\":\"ok\"", AttestationEntry.Read);
        Golden.RefusedWithout(Attestation, "\"size\":99,", AttestationEntry.Read);
        Golden.RefusedWithout(Attestation, "\"statement\":\"sha256:5555555555555555555555555555555555555555555555555555555555555555\",", AttestationEntry.Read);
    }
}
