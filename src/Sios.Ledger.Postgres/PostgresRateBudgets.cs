using Npgsql;
using Sios.Ledger.State;

namespace Sios.Ledger.Postgres;

/// <summary>
/// The keys' rate budgets as rows of the log's schema (<c>budgets</c>), so a key spread over several nodes has one
/// budget: each admission is one <c>UPDATE … RETURNING</c> that refills the buckets by the time elapsed on the
/// database's clock (so the nodes' clocks do not matter) and takes a request only if one is left. The row's lock
/// serialises the nodes, so the budget is exact across them: N nodes admit no more than one node would.
/// </summary>
internal sealed class PostgresRateBudgets(NpgsqlDataSource source, string schema, string display) : IRateBudgets
{
    // Every expression of an UPDATE's SET list reads the row as it was, so each bucket is refilled from the old level and
    // 'at'; statement_timestamp() is one instant for the whole statement.
    private const string Elapsed = "greatest(0, extract(epoch FROM statement_timestamp() - at))";
    private const string Requests = $"least(@rpm, requests + {Elapsed} * @rpm / 60.0)";
    private const string Tokens = $"least(@tpm, tokens + {Elapsed} * @tpm / 60.0)";

    public RateRefusal? Admit(string keyId, int? requestsPerMinute, int? tokensPerMinute)
    {
        if (requestsPerMinute is null && tokensPerMinute is null)
        {
            return null;
        }

        var admit = $"{(requestsPerMinute is null ? "true" : Requests + " >= 1")} AND {(tokensPerMinute is null ? "true" : Tokens + " > 0")}";
        var sql = $"""
            INSERT INTO {schema}.budgets(key_id, requests, tokens, at) VALUES (@k, @rpm, @tpm, statement_timestamp()) ON CONFLICT (key_id) DO NOTHING;
            UPDATE {schema}.budgets SET
                requests = {(requestsPerMinute is null ? "requests" : $"{Requests} - CASE WHEN {admit} THEN 1 ELSE 0 END")},
                tokens = {(tokensPerMinute is null ? "tokens" : Tokens)},
                admitted = {admit},
                at = greatest(at, statement_timestamp())
            WHERE key_id = @k
            RETURNING admitted, requests, tokens;
            """;
        return Run(keyId, sql, requestsPerMinute, tokensPerMinute, null, reader =>
        {
            if (!reader.Read() || reader.GetBoolean(0))
            {
                return (RateRefusal?)null;
            }

            var requests = reader.IsDBNull(1) ? double.MaxValue : reader.GetDouble(1);
            return requestsPerMinute is { } rpm && requests < 1
                ? new RateRefusal(TimeSpan.FromSeconds((1 - requests) / (rpm / 60.0)), Tokens: false)
                : new RateRefusal(TimeSpan.FromSeconds((1 - reader.GetDouble(2)) / (tokensPerMinute!.Value / 60.0)), Tokens: true);
        });
    }

    public void Charge(string keyId, int? requestsPerMinute, int tokensPerMinute, int tokens)
    {
        var sql = $"""
            UPDATE {schema}.budgets SET
                requests = {(requestsPerMinute is null ? "requests" : Requests)},
                tokens = {Tokens} - @n,
                at = greatest(at, statement_timestamp())
            WHERE key_id = @k;
            """;
        Run(keyId, sql, requestsPerMinute, tokensPerMinute, tokens, _ => true);
    }

    private T Run<T>(string keyId, string sql, int? rpm, int? tpm, int? tokens, Func<NpgsqlDataReader, T> read)
    {
        try
        {
            using var connection = source.OpenConnection();
            using var command = new NpgsqlCommand(sql, connection);
            command.Parameters.AddWithValue("k", keyId);
            command.Parameters.AddWithValue("rpm", NpgsqlTypes.NpgsqlDbType.Double, rpm is { } r ? (double)r : DBNull.Value);
            command.Parameters.AddWithValue("tpm", NpgsqlTypes.NpgsqlDbType.Double, tpm is { } t ? (double)t : DBNull.Value);
            if (tokens is { } n)
            {
                command.Parameters.AddWithValue("n", NpgsqlTypes.NpgsqlDbType.Double, (double)n);
            }

            using var reader = command.ExecuteReader();
            return read(reader);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            throw new StateUnavailableException($"the rate budgets in {display} cannot be reached: {e.Message}", e);
        }
    }
}
