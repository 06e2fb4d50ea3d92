using System.Security.Cryptography;
using CsCheck;
using System.Text;
using System.Text.RegularExpressions;
using Sios.Server.Access;
using Sios.Verify;

namespace Sios.Server.Tests.Access;

public sealed partial class ApiKeyStoreTests : IDisposable
{
    private readonly TempFolder _folder = new();

    private string KeyFile => _folder.File(ApiKeyStore.FileName);

    public void Dispose() => _folder.Dispose();

    [GeneratedRegex(@"^sios-[0-9a-f]{12}-[A-Za-z0-9_-]{43}\z")]
    private static partial Regex SecretShape();

    private static (ApiKeyRecord Key, string Secret) Create(ApiKeyStore store, string name, ApiKeyRole role = ApiKeyRole.User, params string[] brains)
    {
        var key = store.Prepare(name, role, brains.Length == 0 ? ["*"] : brains, out var secret);
        store.Add(key);
        return (key, secret);
    }

    [Fact]
    public void New_secrets_have_the_documented_shape_and_carry_their_id()
    {
        var secrets = Enumerable.Range(0, 200).Select(_ => ApiKeyStore.NewSecret()).ToList();
        foreach (var (id, secret) in secrets)
        {
            Assert.Matches(SecretShape(), secret);
            Assert.Equal(ApiKeyStore.SecretLength, secret.Length);
            Assert.Equal("sios-" + id + "-", secret[..18]);
            Assert.Equal(32, Convert.FromBase64String(secret[18..].Replace('-', '+').Replace('_', '/') + "=").Length);
        }

        Assert.Equal(secrets.Count, secrets.Select(s => s.Id).Distinct().Count());
        Assert.Equal(secrets.Count, secrets.Select(s => s.Secret).Distinct().Count());
    }

    [Fact]
    public void A_created_key_authenticates_with_its_scope_and_stops_at_once_when_revoked()
    {
        var clock = new FixedClock(new DateTimeOffset(2026, 11, 26, 10, 0, 0, TimeSpan.Zero));
        var store = new ApiKeyStore(KeyFile, clock);
        Assert.Empty(store.List());
        Assert.Null(store.Authenticate(ApiKeyStore.NewSecret().Secret));

        var key = store.Prepare("clinic-app", ApiKeyRole.Auditor, ["medic", "triage"], out var secret, rpm: 60, tpm: 90_000);
        Assert.Empty(store.List());
        Assert.Null(store.Authenticate(secret));
        store.Add(key);

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret))), key.SecretSha256);
        var principal = store.Authenticate(secret);
        Assert.NotNull(principal);
        Assert.Equal(new ApiPrincipal(key.Id, "clinic-app", ApiKeyRole.Auditor, principal.Brains, key.Rpm, key.Tpm), principal);
        Assert.Equal(["medic", "triage"], principal.Brains);
        Assert.Equal("key:" + key.Id, principal.Actor);
        Assert.True(principal.MayAudit);
        Assert.True(principal.MayUse("triage"));
        Assert.False(principal.MayUse("finance"));

        var listed = Assert.Single(new ApiKeyStore(KeyFile).List());
        Assert.Equal(key.Id, listed.Id);
        Assert.Equal(clock.Now, listed.Created);
        Assert.Equal((60, 90_000), (listed.Rpm, listed.Tpm));
        Assert.False(listed.IsRevoked);

        clock.Now = clock.Now.AddHours(1);
        var revoked = store.Revoke("clinic-app");
        Assert.Equal(clock.Now, revoked.Revoked);
        Assert.Null(store.Authenticate(secret));
        Assert.True(Assert.Single(store.List()).IsRevoked);
        Assert.Null(store.Find("clinic-app"));
        Assert.Equal(ApiKeyError.NotFound, Assert.Throws<ApiKeyException>(() => store.Revoke("clinic-app")).Error);
    }

    [Fact]
    public void Live_names_are_unique_but_a_revoked_name_may_be_reused()
    {
        var store = new ApiKeyStore(KeyFile);
        var (first, firstSecret) = Create(store, "reporting");
        Assert.Equal(ApiKeyError.Conflict, Assert.Throws<ApiKeyException>(() => store.Prepare("reporting", ApiKeyRole.User, ["*"])).Error);

        // Two creators who both prepared before either added: the second Add is refused.
        var other = new ApiKeyStore(KeyFile);
        store.Revoke("reporting");
        var a = store.Prepare("reporting", ApiKeyRole.User, ["*"]);
        var b = other.Prepare("reporting", ApiKeyRole.Admin, ["*"]);
        store.Add(a);
        Assert.Equal(ApiKeyError.Conflict, Assert.Throws<ApiKeyException>(() => other.Add(b)).Error);
        Assert.Equal(ApiKeyError.Conflict, Assert.Throws<ApiKeyException>(() => other.Add(a with { Name = "other-name" })).Error);

        Assert.Equal([first.Id, a.Id], store.List().Select(k => k.Id));
        Assert.Equal(a.Id, store.Find("reporting")!.Id);
        Assert.Null(store.Authenticate(firstSecret));
    }

    [Fact]
    public void Revoke_with_an_id_refuses_a_different_key_of_the_same_name()
    {
        var store = new ApiKeyStore(KeyFile);
        var (old, _) = Create(store, "batch");
        store.Revoke("batch");
        var (current, secret) = Create(store, "batch");

        Assert.Equal(ApiKeyError.NotFound, Assert.Throws<ApiKeyException>(() => store.Revoke("batch", old.Id)).Error);
        Assert.NotNull(store.Authenticate(secret));
        Assert.Equal(current.Id, store.Revoke("batch", current.Id).Id);
        Assert.Null(store.Authenticate(secret));
    }

    [Fact]
    public void A_change_by_another_instance_is_seen_by_the_first_at_its_next_call()
    {
        var server = new ApiKeyStore(KeyFile);
        var cli = new ApiKeyStore(KeyFile);
        var (_, secret) = Create(cli, "svc");
        Assert.NotNull(server.Authenticate(secret));

        cli.Revoke("svc");
        Assert.Null(server.Authenticate(secret));

        var (_, second) = Create(cli, "svc2");
        Assert.NotNull(server.Authenticate(second));
    }

    [Fact]
    public void A_settled_file_is_trusted_on_its_stamp_and_a_newer_write_is_still_seen()
    {
        var server = new ApiKeyStore(KeyFile);
        var cli = new ApiKeyStore(KeyFile);
        var (_, secret) = Create(cli, "old-key");
        File.SetLastWriteTimeUtc(KeyFile, DateTime.UtcNow.AddMinutes(-5));
        Assert.NotNull(server.Authenticate(secret));

        cli.Revoke("old-key");
        Assert.Null(server.Authenticate(secret));
    }

    [Fact]
    public void A_settled_file_is_not_re_read_while_its_stamp_is_unchanged()
    {
        var server = new ApiKeyStore(KeyFile);
        var (key, secret) = Create(new ApiKeyStore(KeyFile), "cached");
        var stamp = DateTime.UtcNow.AddMinutes(-5);
        File.SetLastWriteTimeUtc(KeyFile, stamp);
        Assert.NotNull(server.Authenticate(secret));

        // Only a stat per call: a same-length edit that also restores the old timestamp goes unnoticed (no SIOS write
        // can do that: each gets the current time), which shows the file is not re-read on every request.
        File.WriteAllText(KeyFile, File.ReadAllText(KeyFile).Replace(key.SecretSha256, new string('0', 64), StringComparison.Ordinal));
        File.SetLastWriteTimeUtc(KeyFile, stamp);
        Assert.NotNull(server.Authenticate(secret));
        Assert.Null(new ApiKeyStore(KeyFile).Authenticate(secret));
    }

    [Fact]
    public void A_rewrite_under_the_same_length_and_timestamp_is_seen_while_the_file_is_fresh()
    {
        var server = new ApiKeyStore(KeyFile);
        var cli = new ApiKeyStore(KeyFile);
        var (_, first) = Create(cli, "key-a");
        var stamp = File.GetLastWriteTimeUtc(KeyFile);
        Assert.NotNull(server.Authenticate(first));

        // Same length, same timestamp, different key: what a coarse file clock can produce for two quick writes.
        var text = File.ReadAllText(KeyFile);
        var (id, second) = ApiKeyStore.NewSecret();
        var key = cli.List()[0];
        text = text.Replace(key.Id, id, StringComparison.Ordinal)
            .Replace(key.SecretSha256, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(second))), StringComparison.Ordinal);
        File.WriteAllText(KeyFile, text);
        File.SetLastWriteTimeUtc(KeyFile, stamp);

        Assert.Null(server.Authenticate(first));
        Assert.NotNull(server.Authenticate(second));
    }

    [Fact]
    public void The_file_is_private_and_never_holds_a_secret()
    {
        var store = new ApiKeyStore(KeyFile);
        var secrets = Enumerable.Range(0, 5).Select(i => Create(store, $"k{i}").Secret).ToList();
        store.Revoke("k2");

        var text = File.ReadAllText(KeyFile);
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
            Assert.DoesNotContain(secret[18..], text, StringComparison.Ordinal);
            Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret))), text, StringComparison.Ordinal);
        }

        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(KeyFile));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(KeyFile + ".lock"));
        }

        Assert.Equal([ApiKeyStore.FileName, ApiKeyStore.FileName + ".lock"], Directory.GetFiles(_folder.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Missing_folders_are_created_private()
    {
        var path = Path.Combine(_folder.Path, "data", "keys", ApiKeyStore.FileName);
        var store = new ApiKeyStore(path);
        Create(store, "first");
        Assert.Single(store.List());
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(path)!));
        }
    }

    [Fact]
    public void Concurrent_adds_from_two_instances_lose_nothing()
    {
        var stores = new[] { new ApiKeyStore(KeyFile), new ApiKeyStore(KeyFile) };
        var created = new System.Collections.Concurrent.ConcurrentBag<(string Id, string Secret)>();
        Parallel.For(0, 24, new ParallelOptions { MaxDegreeOfParallelism = 6 }, i =>
        {
            var (key, secret) = Create(stores[i % 2], $"parallel-{i}");
            created.Add((key.Id, secret));
        });

        var reader = new ApiKeyStore(KeyFile);
        Assert.Equal(24, reader.List().Count);
        Assert.All(created, c => Assert.Equal(c.Id, reader.Authenticate(c.Secret)?.KeyId));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Upper")]
    [InlineData("-leading-dash")]
    [InlineData(".hidden")]
    [InlineData("has space")]
    [InlineData("a/b")]
    [InlineData("ünï")]
    public void Invalid_names_are_refused(string name)
    {
        var e = Assert.Throws<ApiKeyException>(() => new ApiKeyStore(KeyFile).Prepare(name, ApiKeyRole.User, ["*"]));
        Assert.Equal(ApiKeyError.Invalid, e.Error);
        Assert.Contains("not a valid key name", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Names_may_be_64_characters_but_not_65()
    {
        var store = new ApiKeyStore(KeyFile);
        Assert.Equal(64, store.Prepare(new string('a', 64), ApiKeyRole.User, ["*"]).Name.Length);
        Assert.Throws<ApiKeyException>(() => store.Prepare(new string('a', 65), ApiKeyRole.User, ["*"]));
        Assert.True(ApiKeyStore.IsValidName("a0._-z"));
    }

    public static TheoryData<string[], string> BadScopes => new()
    {
        { [], "names no brain" },
        { ["*", "medic"], "give it alone" },
        { ["medic", "medic"], "twice" },
        { ["Medic"], "not a brain name" },
        { ["me dic"], "not a brain name" },
    };

    [Theory]
    [MemberData(nameof(BadScopes))]
    public void Invalid_scopes_are_refused(string[] brains, string reason)
    {
        var e = Assert.Throws<ApiKeyException>(() => new ApiKeyStore(KeyFile).Prepare("scoped", ApiKeyRole.User, brains));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, null)]
    [InlineData(null, -1)]
    public void Limits_below_one_are_refused(int? rpm, int? tpm) =>
        Assert.Throws<ApiKeyException>(() => new ApiKeyStore(KeyFile).Prepare("limited", ApiKeyRole.User, ["*"], rpm, tpm));

    [Fact]
    public void An_undefined_role_is_refused() =>
        Assert.Throws<ApiKeyException>(() => new ApiKeyStore(KeyFile).Prepare("odd", (ApiKeyRole)7, ["*"]));

    [Fact]
    public void A_given_id_and_secret_are_used_and_must_agree()
    {
        var store = new ApiKeyStore(KeyFile);
        var (id, secret) = ApiKeyStore.NewSecret();
        var key = store.Prepare("given", ApiKeyRole.Admin, ["*"], id: id, secret: secret);
        store.Add(key);
        Assert.Equal(id, key.Id);
        Assert.Equal(id, store.Authenticate(secret)?.KeyId);

        var fromSecret = store.Prepare("from-secret", ApiKeyRole.User, ["*"], secret: ApiKeyStore.NewSecret().Secret);
        Assert.Equal(12, fromSecret.Id.Length);
        Assert.Equal("0123456789ab", store.Prepare("from-id", ApiKeyRole.User, ["*"], id: "0123456789ab").Id);

        Assert.Throws<ApiKeyException>(() => store.Prepare("mismatch", ApiKeyRole.User, ["*"], id: "0123456789ab", secret: secret));
        Assert.Throws<ApiKeyException>(() => store.Prepare("bad-id", ApiKeyRole.User, ["*"], id: "0123456789AB"));
        Assert.Throws<ApiKeyException>(() => store.Prepare("bad-secret", ApiKeyRole.User, ["*"], secret: "sios-not-a-secret"));
    }

    [Fact]
    public void Add_refuses_records_that_break_the_rules()
    {
        var store = new ApiKeyStore(KeyFile);
        var good = store.Prepare("rules", ApiKeyRole.User, ["*"]);
        Assert.Throws<ApiKeyException>(() => store.Add(good with { Name = "Bad Name" }));
        Assert.Throws<ApiKeyException>(() => store.Add(good with { SecretSha256 = "00" }));
        Assert.Throws<ApiKeyException>(() => store.Add(good with { Revoked = good.Created }));
        Assert.False(File.Exists(KeyFile));
    }

    [Fact]
    public void Malformed_and_wrong_tokens_do_not_authenticate()
    {
        var store = new ApiKeyStore(KeyFile);
        var (key, secret) = Create(store, "target");
        string?[] tokens =
        [
            null, "", " ", "Bearer " + secret, secret + " ", " " + secret, secret[..^1], secret + "A",
            secret.ToUpperInvariant(), secret.Replace("sios-", "SIOS-", StringComparison.Ordinal),
            "sios-" + key.Id + "-" + new string('A', 43),
            ApiKeyStore.NewSecret().Secret,
            "sios-" + key.Id + "+" + secret[18..],
            secret[..20] + "=" + secret[21..],
        ];
        foreach (var token in tokens)
        {
            Assert.Null(store.Authenticate(token));
        }

        Assert.NotNull(store.Authenticate(secret));
    }

    [Fact]
    public void No_single_character_change_of_a_secret_authenticates()
    {
        var store = new ApiKeyStore(KeyFile);
        var (_, secret) = Create(store, "flip");
        const string alphabet = "0123456789abcdefABCDEFGHIJKLMNOPQRSTUVWXYZghijklmnopqrstuvwxyz-_+/=";
        Gen.Select(Gen.Int[0, secret.Length - 1], Gen.Int[0, alphabet.Length - 1]).Sample((position, pick) =>
        {
            var changed = secret[..position] + alphabet[pick] + secret[(position + 1)..];
            return changed == secret ? store.Authenticate(changed) is not null : store.Authenticate(changed) is null;
        });
    }

    [Fact]
    public void Arbitrary_text_never_authenticates_nor_throws()
    {
        var store = new ApiKeyStore(KeyFile);
        Create(store, "fuzz");
        Gen.String.Sample(text => store.Authenticate(text) is null);
        Gen.String[Gen.Char["0123456789abcdef-sio_AZ"], 55, 65].Sample(text => store.Authenticate(text) is null);
    }

    [Fact]
    public void The_bearer_scheme_is_parsed_as_rfc_6750()
    {
        Assert.Equal("tok", ApiKeyStore.BearerToken("Bearer tok"));
        Assert.Equal("tok", ApiKeyStore.BearerToken("bearer tok"));
        Assert.Equal("tok", ApiKeyStore.BearerToken("BEARER  tok "));
        Assert.Null(ApiKeyStore.BearerToken(null));
        Assert.Null(ApiKeyStore.BearerToken("Bearer "));
        Assert.Null(ApiKeyStore.BearerToken("Basic dXNlcjpwYXNz"));
        Assert.Null(ApiKeyStore.BearerToken("Bearertok"));
    }

    [Fact]
    public void A_damaged_file_fails_closed_with_a_format_error()
    {
        var store = new ApiKeyStore(KeyFile);
        var (_, secret) = Create(store, "ok");
        var text = File.ReadAllText(KeyFile);

        File.WriteAllText(KeyFile, text[..^10]);
        Assert.Throws<FormatViolationException>(() => store.Authenticate(secret));

        File.WriteAllText(KeyFile, text.Replace("\"tpm\"", "\"future\": 1, \"tpm\"", StringComparison.Ordinal));
        Assert.Contains("future", Assert.Throws<FormatViolationException>(() => store.List()).Message, StringComparison.Ordinal);

        File.WriteAllText(KeyFile, text.Replace("\"user\"", "\"root\"", StringComparison.Ordinal));
        Assert.Contains("unknown role", Assert.Throws<FormatViolationException>(() => store.List()).Message, StringComparison.Ordinal);

        File.WriteAllText(KeyFile, text.Replace("\"revoked\": null,", "", StringComparison.Ordinal));
        Assert.Throws<FormatViolationException>(() => store.List());

        File.WriteAllText(KeyFile, text.Replace("\"format\": 2", "\"format\": 3", StringComparison.Ordinal));
        Assert.Contains("format-2", Assert.Throws<FormatViolationException>(() => store.List()).Message, StringComparison.Ordinal);

        File.WriteAllText(KeyFile, text);
        Assert.NotNull(store.Authenticate(secret));
    }

    [Fact]
    public void A_file_listing_one_name_live_twice_is_refused()
    {
        var store = new ApiKeyStore(KeyFile);
        Create(store, "twin-a");
        Create(store, "twin-b");
        File.WriteAllText(KeyFile, File.ReadAllText(KeyFile).Replace("twin-b", "twin-a", StringComparison.Ordinal));
        Assert.Contains("more than one live key named 'twin-a'", Assert.Throws<FormatViolationException>(() => store.List()).Message, StringComparison.Ordinal);
    }
}
