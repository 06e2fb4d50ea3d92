using System.Text.Json;
using Sios.Brains.Registry;
using Sios.Ledger.Durable;
using Sios.Verify.Entries;

namespace Sios.Server.Inference;

/// <summary>
/// A note per request the brains are working on, in <c>run/inflight/</c>, so that a request that kills the process (a
/// native crash in the engine, an out-of-memory kill) still leaves a sealed trace: the next start seals an
/// <c>inference.interrupted</c> entry for each note left behind (its id, key, door, brain and request commitment) before
/// it serves anything. Notes are written without fsync: they guard against the process dying, which leaves the page
/// cache intact, not against a power cut, after which nothing the process was doing had been answered anyway.
/// </summary>
internal sealed class InflightJournal(string? directory)
{
    /// <summary>The entry type sealed for a request the last run never finished.</summary>
    public const string InterruptedEntryType = EntryTypes.InferenceInterrupted;

    private static readonly JsonWriterOptions Compact = new() { Indented = false };

    private const string Reason = "the process ended while the request was being answered (unless an inference entry has this id, no answer was sealed for it)";

    /// <summary>Notes that <paramref name="record"/> is about to reach its brain; dispose the result once it is sealed.</summary>
    public IDisposable Begin(InferenceRecord record, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (directory is null)
        {
            return new Note(null);
        }

        var path = Path.Combine(directory, record.Id + ".json");
        using (var buffer = new MemoryStream())
        {
            using (var json = new Utf8JsonWriter(buffer, Compact))
            {
                json.WriteStartObject();
                json.WriteString("id", record.Id);
                json.WriteString("actor", record.Actor);
                json.WriteString("api", InferenceSealer.ApiName(record.Api));
                if (record.Brain is { } brain)
                {
                    json.WriteString("brain", brain.Name);
                }

                if (record.RequestCommitment is { } commitment)
                {
                    json.WriteString("request", commitment);
                }

                json.WriteBoolean("stream", record.Stream);
                json.WriteString("started", EntryJson.FormatTime(clock.GetUtcNow()));
                json.WriteEndObject();
            }

            DurableFile.CreateDirectory(directory);
            File.WriteAllBytes(path, buffer.ToArray());
        }

        return new Note(path);
    }

    /// <summary>
    /// Seals an <c>inference.interrupted</c> entry for each note a previous run left, then removes it; returns how many.
    /// A note that cannot be read is sealed as unreadable rather than dropped.
    /// </summary>
    public async Task<int> RecoverAsync(EntrySealer seal, TimeProvider clock, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(seal);
        if (directory is null || !Directory.Exists(directory))
        {
            return 0;
        }

        var count = 0;
        foreach (var file in Directory.EnumerateFiles(directory, "*.json").Order(StringComparer.Ordinal).ToList())
        {
            var note = Read(file);
            var actor = note is { } n && n.TryGetProperty("actor", out var a) && a.GetString() is { Length: > 0 and <= 80 } who ? who : BrainEntries.System;
            var entry = (note is { } found
                ? new InferenceInterruptedEntry(actor, Copied(found, "id"), Copied(found, "api"), Copied(found, "brain"), Copied(found, "request"), Copied(found, "started"), null, Reason)
                : new InferenceInterruptedEntry(actor, null, null, null, null, null, "unreadable", Reason)).Write(clock);
            await seal(entry, ct).ConfigureAwait(false);
            File.Delete(file);
            count++;
        }

        return count;
    }

    // What an interrupted entry copies from a note (bounded strings only): nothing a crafted note could inflate.
    private static string? Copied(JsonElement note, string member) =>
        note.TryGetProperty(member, out var value) && value.ValueKind == JsonValueKind.String && value.GetString()!.Length <= 200 ? value.GetString() : null;

    private static JsonElement? Read(string file)
    {
        try
        {
            var bytes = File.ReadAllBytes(file);
            if (bytes.Length > 4_096)
            {
                return null;
            }

            using var document = JsonDocument.Parse(bytes);
            return document.RootElement.ValueKind == JsonValueKind.Object ? document.RootElement.Clone() : null;
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            return null;
        }
    }

    private sealed class Note(string? path) : IDisposable
    {
        public void Dispose()
        {
            try
            {
                if (path is not null)
                {
                    File.Delete(path);
                }
            }
            catch (IOException)
            {
                // A note left behind is sealed as interrupted at the next start: a false alarm, never a lost record.
            }
        }
    }
}
