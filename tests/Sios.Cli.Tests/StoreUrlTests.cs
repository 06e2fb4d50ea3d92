using Npgsql;
using Sios.Node;

namespace Sios.Cli.Tests;

/// <summary>
/// The store URL as an operator writes it, read into the driver's settings: defaults, IPv6, percent-encoding, TLS modes,
/// and every refusal naming what is wrong without echoing a password.
/// </summary>
public sealed class StoreUrlTests
{
    [Theory]
    [InlineData("postgres://db.internal/sios", "db.internal", 5432, "sios", null, "sios", SslMode.Prefer)]
    [InlineData("postgresql://auditor@10.0.0.7:6543/records?schema=audit_1", "10.0.0.7", 6543, "records", "auditor", "audit_1", SslMode.Prefer)]
    [InlineData("postgres://sios@[::1]:5433/db?sslmode=verify-full", "::1", 5433, "db", "sios", "sios", SslMode.VerifyFull)]
    [InlineData("postgres://us%40er@host/my%20db?schema=_x&sslmode=disable", "host", 5432, "my db", "us@er", "_x", SslMode.Disable)]
    public void A_url_becomes_the_settings_it_names(string url, string host, int port, string database, string? user, string schema, SslMode ssl)
    {
        var store = LogStores.ParsePostgres(url);
        var settings = new NpgsqlConnectionStringBuilder(store.ConnectionString);

        Assert.Equal(host, settings.Host);
        Assert.Equal(port, settings.Port);
        Assert.Equal(database, settings.Database);
        Assert.Equal(user, settings.Username);
        Assert.Equal(schema, store.Schema);
        Assert.Equal(ssl, settings.SslMode);
        Assert.Null(settings.Password);
        // A node fails closed quickly when its database is gone: bounded connect and command times.
        Assert.Equal(15, settings.Timeout);
        Assert.Equal(30, settings.CommandTimeout);
        Assert.Contains($"(schema {schema})", store.Display, StringComparison.Ordinal);
    }

    [Fact]
    public void Several_hosts_name_a_primary_and_its_standbys_and_only_a_writable_one_is_taken()
    {
        var store = LogStores.ParsePostgres("postgres://sios@pg-1.internal:5433,pg-2.internal,[fd00::7]:6000/records?schema=audit");
        var settings = new NpgsqlConnectionStringBuilder(store.ConnectionString);

        Assert.Equal("pg-1.internal:5433,pg-2.internal:5432,[fd00::7]:6000", settings.Host);
        Assert.Equal("read-write", settings.TargetSessionAttributes);
        Assert.Equal("records", settings.Database);
        Assert.Equal("sios", settings.Username);
        Assert.Equal("audit", store.Schema);
        Assert.Equal("postgres://sios@pg-1.internal:5433,pg-2.internal:5432,[fd00::7]:6000/records (schema audit)", store.Display);
        Assert.Null(new NpgsqlConnectionStringBuilder(LogStores.ParsePostgres("postgres://one/db").ConnectionString).TargetSessionAttributes);
    }

    [Theory]
    [InlineData("postgres://sios:s3cr3t-pw@host/db", "PGPASSWORD")]
    [InlineData("postgres://sios:@host/db", "PGPASSWORD")]
    [InlineData("https://host/db", "is not a store URL")]
    [InlineData("host/db", "is not a store URL")]
    [InlineData("postgres://host", "names no database")]
    [InlineData("postgres://host/a/b", "names no database")]
    [InlineData("postgres://host/db?schema=Audit", "schema=Audit")]
    [InlineData("postgres://host/db?schema=1x", "schema=1x")]
    [InlineData("postgres://host/db?sslmode=sometimes", "sslmode=sometimes")]
    [InlineData("postgres://host/db?password=x", "'password' is not one SIOS reads")]
    [InlineData("postgres://host/db#frag", "has a fragment")]
    [InlineData("postgres://a:5432,,b/db", "'' is not a HOST or HOST:PORT")]
    [InlineData("postgres://a:5432,b:x/db", "'b:x' is not a HOST or HOST:PORT")]
    [InlineData("postgres://sios:s3cr3t@a,b/db", "PGPASSWORD")]
    public void A_url_that_cannot_be_used_as_written_is_refused_saying_why(string url, string expected)
    {
        var refused = Assert.Throws<NodeException>(() => LogStores.ParsePostgres(url));

        Assert.Equal(NodeFailure.Usage, refused.Failure);
        Assert.Contains(expected, refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t", refused.Message, StringComparison.Ordinal);
    }
}
