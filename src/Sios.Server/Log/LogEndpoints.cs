using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Sios.Ledger.Proofs;
using Sios.Ledger.Storage;
using Sios.Server.Access;
using Sios.Server.Hosting;
using Sios.Server.Http;
using Sios.Verify.Entries;
using Sios.Verify.Tiles;

namespace Sios.Server.Log;

/// <summary>
/// The log over HTTP under <c>/log/</c> (SPEC §4, tlog-tiles): the checkpoint, hash tiles, entry bundles, and
/// receipts. Tiles and bundles are served only as far as the latest signed checkpoint reaches, and, being
/// immutable, with year-long cache headers. Reading the log needs an auditor or admin key; a user key may fetch
/// the receipts of its own answers. With a witness policy the checkpoint served is the newest witnessed one (tiles reach
/// the newest signed one, so a client holding either can read its tree). <c>/log/timestamps/SIZE</c> serves the RFC 3161
/// token over the checkpoint at SIZE (DER TimeStampToken, <c>application/octet-stream</c>) to any valid key: like a
/// receipt it is what a user needs to check an answer, and it reveals only a time and a hash of a checkpoint.
/// </summary>
internal static class LogEndpoints
{
    private const string Immutable = "public, max-age=31536000, immutable";

    public static RouteGroupBuilder MapLog(this IEndpointRouteBuilder app)
    {
        var log = app.MapGroup("/log");
        log.MapGet("/checkpoint", CheckpointAsync);
        log.MapGet("/vkeys", VkeysAsync);
        log.MapGet("/signers", SignersAsync);
        log.MapGet("/attestation", AttestationAsync);
        log.MapGet("/tile/{**path}", TileAsync);
        log.MapGet("/receipts/{index}", ReceiptAsync);
        log.MapGet("/timestamps/{size}", TimestampAsync);
        return log;
    }

    private static Task CheckpointAsync(HttpContext context, SiosServices services, SiosMetrics metrics)
    {
        RequireAuditor(context, services, metrics);
        context.Response.Headers.CacheControl = "no-cache";
        return WriteAsync(context, "text/plain; charset=utf-8", services.Published.Note);
    }

    /// <summary>
    /// The log's verifier keys, one vkey a line, for a console that is told to take the server's word for them (it says
    /// so): a verifier that trusts no one gets them from elsewhere.
    /// </summary>
    private static Task VkeysAsync(HttpContext context, SiosServices services, SiosMetrics metrics)
    {
        RequireAuditor(context, services, metrics);
        context.Response.Headers.CacheControl = "no-cache";
        var text = string.Concat(services.Log.VerifierKeys.Select(k => k + "\n"));
        return WriteAsync(context, "text/plain; charset=utf-8", System.Text.Encoding.UTF8.GetBytes(text));
    }

    /// <summary>
    /// The signer history (JSON): with it a verifier that trusts only the original vkeys follows every rotation itself,
    /// each statement being checked under the keys it retires.
    /// </summary>
    private static async Task SignersAsync(HttpContext context, SiosServices services, SiosMetrics metrics)
    {
        RequireAuditor(context, services, metrics);
        if (services.Signers is not { } read)
        {
            throw NotFound("this server does not offer its signer history; 'sios key export-public' prints it.");
        }

        var history = await read(context.RequestAborted).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        using (var json = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            WriteStrings(json, "original", history.Original);
            WriteStrings(json, "current", history.Current);
            json.WriteStartArray("rotations");
            foreach (var (index, receipt) in history.Rotations)
            {
                json.WriteStartObject();
                json.WriteNumber("index", index);
                json.WriteString("receipt", System.Text.Encoding.UTF8.GetString(receipt));
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("additions");
            foreach (var (fromSize, vkey) in history.Additions)
            {
                json.WriteStartObject();
                json.WriteNumber("from_size", fromSize);
                json.WriteString("vkey", vkey);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        context.Response.Headers.CacheControl = "no-cache";
        await WriteAsync(context, "application/json", buffer.ToArray()).ConfigureAwait(false);
    }

    /// <summary>The newest attestation this node sealed, as signed (a <c>sios-attestation/v1</c> note); its entry's index in <c>Sios-Log-Index</c>.</summary>
    private static Task AttestationAsync(HttpContext context, SiosServices services, SiosMetrics metrics)
    {
        RequireAuditor(context, services, metrics);
        if (services.LatestAttestation?.Invoke() is not { } latest)
        {
            throw NotFound("this node has sealed no attestation yet ('sios attest' makes one).");
        }

        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers["Sios-Log-Index"] = latest.Index.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return WriteAsync(context, "text/plain; charset=utf-8", latest.Note);
    }

    /// <summary>Writes <paramref name="values"/> as the array member <paramref name="name"/>.</summary>
    internal static void WriteStrings(System.Text.Json.Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values)
        {
            json.WriteStringValue(value);
        }

        json.WriteEndArray();
    }

    private static async Task TileAsync(HttpContext context, string path, SiosServices services, SiosMetrics metrics)
    {
        RequireAuditor(context, services, metrics);
        if (!TilePath.TryParse("tile/" + path, out var tile))
        {
            throw NotFound($"'/log/tile/{path}' is not a tlog-tiles path.");
        }

        var size = services.Log.Latest.Size;
        var source = new StoreLogSource(services.Log.Reader);
        ReadOnlyMemory<byte> bytes;
        if (tile.IsEntryBundle)
        {
            if ((tile.Index * TilePath.FullWidth) + tile.Width > size)
            {
                throw NotFound($"entry bundle {tile.Index} of width {tile.Width} is beyond the latest checkpoint (size {size}).");
            }

            bytes = await source.ReadEntryBundleAsync(tile.Index, tile.Width, context.RequestAborted).ConfigureAwait(false);
        }
        else
        {
            // The tile holds hashes at level 8*L, each covering 256^L leaves; all of its first Width must be in the tree.
            var covered = TilePath.FullTileCount(tile.Level, size) > tile.Index
                || (TilePath.FullTileCount(tile.Level, size) == tile.Index && TilePath.PartialWidth(tile.Level, size) >= tile.Width);
            if (!covered)
            {
                throw NotFound($"tile {tile.Level}/{tile.Index} of width {tile.Width} is beyond the latest checkpoint (size {size}).");
            }

            bytes = await source.ReadTileAsync(tile.Level, tile.Index, tile.Width, context.RequestAborted).ConfigureAwait(false);
        }

        context.Response.Headers.CacheControl = Immutable;
        await WriteAsync(context, "application/octet-stream", bytes).ConfigureAwait(false);
    }

    private static async Task ReceiptAsync(HttpContext context, string index, SiosServices services, SiosMetrics metrics)
    {
        var principal = Authentication.Require(context, services.Keys, metrics);
        if (!long.TryParse(index, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var i))
        {
            throw NotFound($"'{index}' is not an entry index.");
        }

        var latest = services.Log.Latest;
        if (i >= latest.Size)
        {
            throw NotFound($"entry {i} is not in the log: the latest checkpoint covers {latest.Size} entries.");
        }

        var reader = services.Log.Reader;
        if (!principal.MayAudit)
        {
            var entries = await reader.ReadEntriesAsync(i, 1, context.RequestAborted).ConfigureAwait(false);
            if (entries.Count != 1 || ActorOf(entries[0]) != principal.Actor)
            {
                throw new ApiException(403, "This key may fetch only the receipts of its own answers; reading the log needs an auditor or admin key.", "permission_error", code: "not_auditor");
            }
        }

        // The newest witnessed checkpoint when it covers the entry, so a receipt fetched again after witnessing carries the cosignatures.
        var against = services.Published is { } published && i < published.Size ? published : latest;
        var receipt = await LogProofs.ReceiptAsync(reader, i, new StoredCheckpoint(against.Size, against.Note), context.RequestAborted).ConfigureAwait(false);
        context.Response.Headers.CacheControl = "no-cache";
        await WriteAsync(context, "text/plain; charset=utf-8", receipt).ConfigureAwait(false);
    }

    private static async Task TimestampAsync(HttpContext context, string size, SiosServices services, SiosMetrics metrics)
    {
        Authentication.Require(context, services.Keys, metrics);
        if (!long.TryParse(size, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n))
        {
            throw NotFound($"'{size}' is not a checkpoint size.");
        }

        if (services.Timestamps?.Read(n) is not { } token)
        {
            throw NotFound($"no time-stamp token is kept for the checkpoint at size {n}: only published checkpoints are stamped, and not every one (see sios serve --tsa).");
        }

        // A token is written once and never replaced.
        context.Response.Headers.CacheControl = Immutable;
        await WriteAsync(context, "application/octet-stream", token).ConfigureAwait(false);
    }

    private static void RequireAuditor(HttpContext context, SiosServices services, SiosMetrics metrics)
    {
        if (!Authentication.Require(context, services.Keys, metrics).MayAudit)
        {
            throw new ApiException(403, "Reading the log needs an auditor or admin key.", "permission_error", code: "not_auditor");
        }
    }

    private static string? ActorOf(byte[] entry) => LogEntry.TryParse(entry, out var header) ? header.Actor : null;

    private static ApiException NotFound(string message) => new(404, message, code: "not_found");

    private static Task WriteAsync(HttpContext context, string type, ReadOnlyMemory<byte> body)
    {
        context.Response.ContentType = type;
        context.Response.ContentLength = body.Length;
        return context.Response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }
}
