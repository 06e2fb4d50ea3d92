using System.Collections.Concurrent;
using System.Globalization;
using Npgsql;
using Sios.Ledger.Postgres;
using Sios.Ledger.Sqlite;
using Sios.Ledger.State;
using Sios.Ledger.Storage;

namespace Sios.Node;

/// <summary>
/// Where a data folder's log lives: the embedded SQLite file (<c>log/log.db</c>, the default), or a PostgreSQL schema
/// named in sios.json's <c>store</c> as <c>postgres://[USER@]HOST[:PORT]/DATABASE[?schema=NAME&amp;sslmode=MODE]</c>.
/// The URL holds no secret: it is kept in sios.json and shown in messages, so a password is read only from the
/// environment (<c>PGPASSWORD</c>) or a <c>PGPASSFILE</c>, as every PostgreSQL client does, and a URL carrying one is refused.
/// </summary>
internal static class LogStores
{
    /// <summary>The schema a log takes when the URL names none.</summary>
    public const string DefaultSchema = "sios";

    private static readonly string[] Schemes = ["postgres", "postgresql"];

    private static readonly ConcurrentDictionary<string, Lazy<PostgresSharedState>> SharedStates = new(StringComparer.Ordinal);

    private static readonly Dictionary<string, SslMode> SslModes = new(StringComparer.Ordinal)
    {
        ["disable"] = SslMode.Disable,
        ["allow"] = SslMode.Allow,
        ["prefer"] = SslMode.Prefer,
        ["require"] = SslMode.Require,
        ["verify-ca"] = SslMode.VerifyCA,
        ["verify-full"] = SslMode.VerifyFull,
    };

    /// <summary>A PostgreSQL store, parsed from its URL.</summary>
    /// <param name="ConnectionString">Npgsql's connection string (no password: Npgsql reads PGPASSWORD or PGPASSFILE itself).</param>
    /// <param name="Schema">The schema holding the log's tables.</param>
    /// <param name="Display">The store as messages name it: host, port, database and schema.</param>
    public sealed record PostgresStore(string ConnectionString, string Schema, string Display);

    /// <summary>Opens the log store of the data folder at <paramref name="dataPath"/> whose sios.json says <paramref name="store"/>.</summary>
    public static ILogStore Open(string dataPath, string? store)
    {
        if (store is null)
        {
            return SqliteLogStore.Open(Path.Combine(dataPath, "log", "log.db"));
        }

        var postgres = ParsePostgres(store);
        return Reaching(postgres, () => PostgresLogStore.Open(postgres.ConnectionString, postgres.Schema));
    }

    /// <summary>Opens something of the store <paramref name="postgres"/>, saying which store when it cannot be reached or is not a log.</summary>
    private static T Reaching<T>(PostgresStore postgres, Func<T> open)
    {
        try
        {
            return open();
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            // The driver's words name the host and the failure, never the password, which no URL of ours carries.
            throw new NodeException($"the log store {postgres.Display} cannot be reached: {e.Message}", NodeFailure.CouldNotRun, e);
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException)
        {
            throw new NodeException($"the log store {postgres.Display}: {e.Message}", NodeFailure.Integrity, e);
        }
    }

    /// <summary>
    /// The state document <paramref name="name"/> kept in the shared store <paramref name="store"/> (a row of its
    /// <c>state</c> table), so every node serving the log reads and changes the same one.
    /// </summary>
    public static IStateDocument SharedState(string store, string name) => State(store).Document(name);

    /// <summary>The vault's shelves (kept answers, stored-response claims) in the shared store <paramref name="store"/>.</summary>
    public static (IRecordShelf Answers, IRecordShelf Claims) SharedShelves(string store)
    {
        var state = State(store);
        return (state.Shelf("vault"), state.Shelf("responses"));
    }

    /// <summary>The keys' rate budgets kept in the shared store <paramref name="store"/>, one budget per key across every node.</summary>
    public static IRateBudgets SharedBudgets(string store) => State(store).Budgets;

    // One pool per store for the life of the process: a pool per request would defeat its purpose.
    private static PostgresSharedState State(string store)
    {
        var postgres = ParsePostgres(store);
        var state = SharedStates.GetOrAdd(store, _ => new Lazy<PostgresSharedState>(() => Reaching(postgres, () => PostgresSharedState.Open(postgres.ConnectionString, postgres.Schema))));
        try
        {
            return state.Value;
        }
        catch (NodeException)
        {
            // A store that could not be reached is tried again next time, not remembered as unreachable.
            SharedStates.TryRemove(KeyValuePair.Create(store, state));
            throw;
        }
    }

    /// <summary>Whether the data folder keeps its log in its own SQLite file (so file-level checks such as its existence apply).</summary>
    public static bool IsEmbedded(string? store) => store is null;

    /// <summary>
    /// Parses and checks a PostgreSQL store URL, or explains what is wrong with it (exit 2). Several hosts
    /// (<c>postgres://HOST1:PORT1,HOST2:PORT2/DB</c>, as libpq writes them) name a primary and its standbys: the node
    /// connects to whichever accepts writes, so after a failover it follows the promoted standby.
    /// </summary>
    public static PostgresStore ParsePostgres(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var (single, hosts) = SplitHosts(url);
        if (!Uri.TryCreate(single, UriKind.Absolute, out var uri) || !Schemes.Contains(uri.Scheme, StringComparer.Ordinal))
        {
            throw Usage("is not a store URL: write postgres://[USER@]HOST[:PORT][,HOST[:PORT]...]/DATABASE[?schema=NAME&sslmode=MODE]");
        }

        var user = Uri.UnescapeDataString(uri.UserInfo);
        if (user.Contains(':', StringComparison.Ordinal))
        {
            // Never echo the URL here: it holds the password.
            throw new NodeException("the store URL carries a password; leave it out and give it in PGPASSWORD (or a PGPASSFILE), so it is never written to sios.json or shown", NodeFailure.Usage);
        }

        if (string.IsNullOrEmpty(uri.Host))
        {
            throw Usage($"{url} names no host");
        }

        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length == 0 || database.Contains('/', StringComparison.Ordinal))
        {
            throw Usage($"{url} names no database: write postgres://HOST/DATABASE");
        }

        if (uri.Fragment.Length > 0)
        {
            throw Usage($"{url} has a fragment; a store URL has none");
        }

        var endpoints = hosts.Count == 0 ? [Endpoint(uri)] : hosts.Select(h => HostOf(url, h)).ToList();
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = endpoints.Count == 1 ? endpoints[0].Host : string.Join(',', endpoints.Select(e => Bracketed(e.Host) + ":" + e.Port.ToString(CultureInfo.InvariantCulture))),
            Port = endpoints[0].Port,
            Database = database,
            // Bounded: a node must fail closed quickly when its database is gone, not hang its clients.
            Timeout = 15,
            CommandTimeout = 30,
        };
        if (endpoints.Count > 1)
        {
            // Only the primary takes writes; a standby's state is rechecked often, so a promotion is seen within seconds.
            builder.TargetSessionAttributes = "read-write";
            builder.HostRecheckSeconds = 2;
        }

        if (user.Length > 0)
        {
            builder.Username = user;
        }

        var schema = DefaultSchema;
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var (name, value) = pair.IndexOf('=', StringComparison.Ordinal) is var eq and >= 0
                ? (Uri.UnescapeDataString(pair[..eq]), Uri.UnescapeDataString(pair[(eq + 1)..]))
                : (Uri.UnescapeDataString(pair), "");
            switch (name)
            {
                case "schema" when PostgresSchemaName(value):
                    schema = value;
                    break;
                case "schema":
                    throw Usage($"schema={value} is not a schema name SIOS uses: 1 to 63 characters of a-z, 0-9 and _, not starting with a digit");
                case "sslmode" when SslModes.TryGetValue(value, out var mode):
                    builder.SslMode = mode;
                    break;
                case "sslmode":
                    throw Usage($"sslmode={value} is not one of {string.Join(", ", SslModes.Keys)}");
                default:
                    throw Usage($"{url}: the parameter '{name}' is not one SIOS reads (schema, sslmode)");
            }
        }

        var display = $"postgres://{(user.Length > 0 ? user + "@" : "")}{string.Join(',', endpoints.Select(e => Bracketed(e.Host) + ":" + e.Port.ToString(CultureInfo.InvariantCulture)))}/{database} (schema {schema})";
        return new PostgresStore(builder.ConnectionString, schema, display);
    }

    /// <summary>
    /// The URL with its host list cut to the first host (System.Uri reads one authority), and the hosts when it lists
    /// several; the caller checks each of those on its own.
    /// </summary>
    private static (string Single, List<string> Hosts) SplitHosts(string url)
    {
        var start = url.IndexOf("://", StringComparison.Ordinal);
        if (start < 0)
        {
            return (url, []);
        }

        start += 3;
        var end = url.IndexOfAny(['/', '?', '#'], start);
        end = end < 0 ? url.Length : end;
        var at = url.LastIndexOf('@', end - 1, end - start);
        var hostStart = at < 0 ? start : at + 1;
        var list = url[hostStart..end];
        if (!list.Contains(',', StringComparison.Ordinal))
        {
            return (url, []);
        }

        var hosts = list.Split(',').ToList();
        return (url[..hostStart] + hosts[0] + url[end..], hosts);
    }

    private static (string Host, int Port) HostOf(string url, string host) =>
        host.Length > 0 && Uri.TryCreate("postgres://" + host + "/db", UriKind.Absolute, out var one) && one.Host.Length > 0
            && one.AbsolutePath == "/db" && one.UserInfo.Length == 0
            ? Endpoint(one)
            : throw Usage($"{url}: '{host}' is not a HOST or HOST:PORT");

    private static (string Host, int Port) Endpoint(Uri uri) => (uri.Host.Trim('[', ']'), uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port);

    private static string Bracketed(string host) => host.Contains(':', StringComparison.Ordinal) ? "[" + host + "]" : host;

    private static bool PostgresSchemaName(string value) =>
        value.Length is > 0 and <= 63 && (char.IsAsciiLetterLower(value[0]) || value[0] == '_') && value.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_');

    private static NodeException Usage(string problem) => new($"--store: {problem}", NodeFailure.Usage);
}
