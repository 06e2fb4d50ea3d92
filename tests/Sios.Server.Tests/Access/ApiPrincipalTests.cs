using Sios.Server.Access;

namespace Sios.Server.Tests.Access;

public sealed class ApiPrincipalTests
{
    [Fact]
    public void A_star_scope_allows_every_brain_and_a_list_only_its_own()
    {
        var all = new ApiPrincipal("0123456789ab", "all", ApiKeyRole.User, ["*"]);
        Assert.True(all.MayUse("anything"));
        Assert.True(all.MayUse(""));

        var some = new ApiPrincipal("0123456789ab", "some", ApiKeyRole.User, ["medic", "law"]);
        Assert.True(some.MayUse("law"));
        Assert.False(some.MayUse("Law"));
        Assert.False(some.MayUse("finance"));
        Assert.False(some.MayUse("*"));
    }

    [Theory]
    [InlineData(ApiKeyRole.User, false)]
    [InlineData(ApiKeyRole.Auditor, true)]
    [InlineData(ApiKeyRole.Admin, true)]
    public void Only_auditors_and_admins_may_audit(ApiKeyRole role, bool mayAudit) =>
        Assert.Equal(mayAudit, new ApiPrincipal("0123456789ab", "k", role, ["*"]).MayAudit);

    [Fact]
    public void The_actor_is_key_colon_id() =>
        Assert.Equal("key:0123456789ab", new ApiPrincipal("0123456789ab", "k", ApiKeyRole.User, ["*"]).Actor);

    [Theory]
    [InlineData(ApiKeyRole.User, "user")]
    [InlineData(ApiKeyRole.Auditor, "auditor")]
    [InlineData(ApiKeyRole.Admin, "admin")]
    public void Role_names_round_trip(ApiKeyRole role, string name)
    {
        Assert.Equal(name, ApiKeyRoleNames.ToName(role));
        Assert.Equal(role, ApiKeyRoleNames.Parse(name));
        Assert.Contains(name, ApiKeyRoleNames.All);
    }

    [Theory]
    [InlineData("User")]
    [InlineData("root")]
    [InlineData("")]
    [InlineData(null)]
    public void Unknown_role_names_are_refused_with_the_valid_ones(string? name)
    {
        Assert.False(ApiKeyRoleNames.TryParse(name, out _));
        var e = Assert.Throws<ApiKeyException>(() => ApiKeyRoleNames.Parse(name));
        Assert.Contains("user, auditor, admin", e.Message, StringComparison.Ordinal);
    }
}
