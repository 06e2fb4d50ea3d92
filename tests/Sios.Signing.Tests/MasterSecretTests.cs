using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sios.Signing.Tests;

/// <summary>The master secret at rest (AES-256-GCM under PBKDF2) and the keys derived from it.</summary>
public class MasterSecretTests
{
    private const string Passphrase = "correct horse battery staple";

    /// <summary>
    /// Written by Python's <c>cryptography</c> (AESGCM) and <c>hashlib.pbkdf2_hmac</c>: secret 00..1f, salt 10..1f,
    /// nonce 20..2b, 600,000 iterations, associated data "sios-master-secret/v1".
    /// </summary>
    private const string IndependentFile = """
        {
          "format": "sios-master-secret/v1",
          "kdf": "pbkdf2-hmac-sha256",
          "iterations": 600000,
          "salt": "EBESExQVFhcYGRobHB0eHw==",
          "cipher": "aes-256-gcm",
          "nonce": "ICEiIyQlJicoKSor",
          "ciphertext": "gqLSWh+DONugk7fq8Mb/lChsrQyhKwQccdaQ6QISf2M=",
          "tag": "qvb7NzOi1meRj2CNtON1gQ=="
        }
        """;

    // HMAC-SHA256(00..1f, "sios/commitment-nonce/v1") and (…, "sios/other"), by Python's hmac module.
    private const string CommitmentSecretHex = "2cd167806670fba77d6f26bdc338d812fe855c099c927dfb554dac63a6f286e8";
    private const string OtherPurposeHex = "15b592b78c381d3ede72b892e1c433aa0f112a6b24a3e9b6f617bf71713ba552";

    private static byte[] Sequence(int from, int count) => [.. Enumerable.Range(from, count).Select(i => (byte)i)];

    /// <summary>A cheap export (1,000 iterations) for the tests that only alter the file.</summary>
    private static string CheapExport()
    {
        using var secret = MasterSecret.FromBytes(Sequence(0, 32));
        return secret.Export(Passphrase, 1_000, Sequence(0x10, 16), Sequence(0x20, 12));
    }

    private static string Edit(string text, Action<JsonObject> edit)
    {
        var json = JsonNode.Parse(text)!.AsObject();
        edit(json);
        return json.ToJsonString();
    }

    private static string FlipBase64(string encoded)
    {
        var bytes = Convert.FromBase64String(encoded);
        bytes[^1] ^= 0x01;
        return Convert.ToBase64String(bytes);
    }

    [Fact]
    public void Imports_a_file_written_by_an_independent_implementation()
    {
        using var secret = MasterSecret.Import(IndependentFile, Passphrase);
        Assert.Equal(CommitmentSecretHex, Convert.ToHexStringLower(secret.DeriveKey(MasterSecret.CommitmentNoncePurpose)));
    }

    [Fact]
    public void Export_with_the_same_parameters_is_byte_for_byte_the_independent_file()
    {
        using var secret = MasterSecret.FromBytes(Sequence(0, 32));
        Assert.Equal(IndependentFile + "\n", secret.Export(Passphrase, 600_000, Sequence(0x10, 16), Sequence(0x20, 12)));
    }

    [Fact]
    public void A_generated_secret_round_trips_and_each_export_is_fresh()
    {
        using var secret = MasterSecret.Generate();
        var first = secret.Export(Passphrase);
        var second = secret.Export(Passphrase);
        Assert.NotEqual(first, second);
        Assert.Contains("\"iterations\": 600000", first, StringComparison.Ordinal);

        using var imported = MasterSecret.Import(first, Passphrase);
        Assert.Equal(secret.DeriveKey("commitment-nonce/v1"), imported.DeriveKey("commitment-nonce/v1"));
        using var other = MasterSecret.Generate();
        Assert.NotEqual(secret.DeriveKey("commitment-nonce/v1"), other.DeriveKey("commitment-nonce/v1"));
    }

    [Fact]
    public void A_wrong_passphrase_is_refused()
    {
        var e = Assert.Throws<KeyPassphraseException>(() => MasterSecret.Import(CheapExport(), Passphrase + "!"));
        Assert.Contains("wrong passphrase", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ciphertext")]
    [InlineData("tag")]
    [InlineData("nonce")]
    [InlineData("salt")]
    public void Any_altered_byte_is_refused_as_tampering(string member)
    {
        var text = Edit(CheapExport(), json => json[member] = FlipBase64(json[member]!.GetValue<string>()));
        Assert.Throws<KeyPassphraseException>(() => MasterSecret.Import(text, Passphrase));
        Assert.NotNull(MasterSecret.Import(CheapExport(), Passphrase));
    }

    [Fact]
    public void An_altered_iteration_count_is_refused()
    {
        var text = Edit(CheapExport(), json => json["iterations"] = 1_001);
        Assert.Throws<KeyPassphraseException>(() => MasterSecret.Import(text, Passphrase));
    }

    public static TheoryData<string, string> Malformed => new()
    {
        { "", "not valid JSON" },
        { "[]", "not a JSON object" },
        { "{\"format\":\"sios-master-secret/v2\"}", "format 'sios-master-secret/v2'" },
        { "{\"format\":1}", "no text member 'format'" },
        { new string(' ', 5000), "characters" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_files_are_format_errors(string text, string reason)
    {
        var e = Assert.Throws<KeyFormatException>(() => MasterSecret.Import(text, Passphrase));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, JsonNode?, string> BadMembers => new()
    {
        { "kdf", JsonValue.Create("scrypt"), "kdf" },
        { "cipher", JsonValue.Create("aes-256-cbc"), "cipher" },
        { "iterations", JsonValue.Create(0), "iterations" },
        { "iterations", JsonValue.Create(20_000_000), "iterations" },
        { "iterations", JsonValue.Create("600000"), "iterations" },
        { "salt", JsonValue.Create("AAAA"), "'salt' must be 16 bytes" },
        { "nonce", JsonValue.Create(Convert.ToBase64String(new byte[16])), "'nonce' must be 12 bytes" },
        { "ciphertext", JsonValue.Create("not base64!"), "'ciphertext' must be 32 bytes" },
        { "tag", null, "no text member 'tag'" },
        { "comment", JsonValue.Create("hello"), "unknown member 'comment'" },
    };

    [Theory]
    [MemberData(nameof(BadMembers))]
    public void Bad_members_are_format_errors(string member, JsonNode? value, string reason)
    {
        var text = Edit(CheapExport(), json =>
        {
            if (value is null)
            {
                json.Remove(member);
            }
            else
            {
                json[member] = value;
            }
        });
        var e = Assert.Throws<KeyFormatException>(() => MasterSecret.Import(text, Passphrase));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_member_given_twice_is_a_format_error()
    {
        var text = CheapExport().Replace("\"kdf\"", "\"tag\": \"AAAAAAAAAAAAAAAAAAAAAA==\",\n  \"kdf\"", StringComparison.Ordinal);
        Assert.Contains("twice", Assert.Throws<KeyFormatException>(() => MasterSecret.Import(text, Passphrase)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Derivation_is_stable_and_separated_by_purpose()
    {
        using var secret = MasterSecret.FromBytes(Sequence(0, 32));
        Assert.Equal(CommitmentSecretHex, Convert.ToHexStringLower(secret.DeriveKey("commitment-nonce/v1")));
        Assert.Equal(CommitmentSecretHex, Convert.ToHexStringLower(secret.DeriveKey("commitment-nonce/v1")));
        Assert.Equal(OtherPurposeHex, Convert.ToHexStringLower(secret.DeriveKey("other")));
        Assert.Throws<ArgumentException>(() => secret.DeriveKey(""));
    }

    [Fact]
    public void A_disposed_secret_refuses_to_derive_or_export()
    {
        var secret = MasterSecret.Generate();
        secret.Dispose();
        secret.Dispose();
        Assert.Throws<ObjectDisposedException>(() => secret.DeriveKey("commitment-nonce/v1"));
        Assert.Throws<ObjectDisposedException>(() => secret.Export(Passphrase));
    }

    [Fact]
    public void An_empty_passphrase_is_refused()
    {
        using var secret = MasterSecret.Generate();
        Assert.Throws<ArgumentException>(() => secret.Export(""));
        Assert.Throws<ArgumentException>(() => MasterSecret.Import(CheapExport(), ""));
    }

    [Fact]
    public void The_file_is_json_naming_its_format()
    {
        using var document = JsonDocument.Parse(CheapExport());
        Assert.Equal(MasterSecret.FormatName, document.RootElement.GetProperty("format").GetString());
    }
}
