using Sios.Ledger.Pipeline;
using Sios.Ledger.State;
using Sios.Server.Access;
using Sios.Verify;

namespace Sios.Server.Control;

/// <summary>
/// The operator's changes to API keys, in the one order that keeps the record whole: seal first, then store, so a key
/// never works without its <c>key.created</c>, and a revocation is never stored unsealed. The CLI (when no server holds
/// the log), the control socket and the demo all go through here.
/// </summary>
public sealed class OperatorActions(TransparencyLog log, ApiKeyStore keys, TimeProvider? clock = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    /// <summary>
    /// Makes a key: validates it (<see cref="ApiKeyException"/> for a bad name, scope or taken name, nothing sealed),
    /// seals <c>key.created</c> by <paramref name="actor"/>, stores it. Returns the record, its secret (shown once) and the entry's index.
    /// </summary>
    public async Task<CreatedKey> CreateKeyAsync(string name, ApiKeyRole role, IReadOnlyList<string> brains, int? rpm, int? tpm, CancellationToken ct, string actor = ApiKeyEntries.Actor)
    {
        var record = keys.Prepare(name, role, brains, out var secret, rpm, tpm);
        var sealedAt = await log.AppendAsync(ApiKeyEntries.Created(record, _clock, actor), ct).ConfigureAwait(false);
        try
        {
            keys.Add(record);
        }
        catch (Exception e) when (e is ApiKeyException or IOException or UnauthorizedAccessException or FormatViolationException or StateFileException or StateUnavailableException)
        {
            throw new OperatorActionException($"key.created for '{name}' (id {record.Id}) was sealed as entry {sealedAt.Index}, but the key could not be stored, so it does not exist: {e.Message}", e);
        }

        return new CreatedKey(record, secret, sealedAt.Index);
    }

    /// <summary>
    /// Revokes the live key named <paramref name="name"/> (<see cref="ApiKeyException"/> NotFound when there is none):
    /// seals <c>key.revoked</c> by <paramref name="actor"/>, then marks it revoked. Should the store fail after the seal, the key is still treated as
    /// revoked wherever the file is checked against the log, and running this again finishes it.
    /// </summary>
    public async Task<(ApiKeyRecord Key, long Index)> RevokeKeyAsync(string name, CancellationToken ct, string actor = ApiKeyEntries.Actor)
    {
        var live = keys.Find(name) ?? throw new ApiKeyException($"no live API key is named '{name}'", ApiKeyError.NotFound);
        var sealedAt = await log.AppendAsync(ApiKeyEntries.Revoked(live with { Revoked = _clock.GetUtcNow() }, _clock, actor), ct).ConfigureAwait(false);
        try
        {
            return (keys.Revoke(name, live.Id), sealedAt.Index);
        }
        catch (Exception e) when (e is ApiKeyException or IOException or UnauthorizedAccessException or FormatViolationException or StateFileException or StateUnavailableException)
        {
            throw new OperatorActionException($"key.revoked for '{name}' (id {live.Id}) was sealed as entry {sealedAt.Index}, but marking the key revoked failed: {e.Message}; run the revocation again", e);
        }
    }
}

/// <summary>A key just made: its record, its secret (shown once, never stored) and the index of its <c>key.created</c>.</summary>
/// <param name="Key">The stored record.</param>
/// <param name="Secret">The bearer secret.</param>
/// <param name="Index">The log index of the key.created entry.</param>
public sealed record CreatedKey(ApiKeyRecord Key, string Secret, long Index);

/// <summary>An operator action was sealed but could not be completed; the message says what the record now holds.</summary>
public sealed class OperatorActionException : Exception
{
    /// <summary>Creates the exception with a message and cause.</summary>
    public OperatorActionException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception with no detail.</summary>
    public OperatorActionException() { }

    /// <summary>Creates the exception with a message.</summary>
    public OperatorActionException(string message) : base(message) { }
}
