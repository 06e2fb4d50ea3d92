using System.Security.Cryptography;
using System.Text;
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
/// Each note carries an HMAC (under a key the server derives from its commitment secret), so someone who can write the
/// data folder cannot make the next start seal requests nobody made: a note that fails it is not sealed as a request,
/// only counted in one <c>state.refused</c>.
/// </summary>
internal sealed class InflightJournal(string? directory, byte[] key)
{
    /// <summary>The entry type sealed for a request the last run never finished.</summary>
    public const string InterruptedEntryType = EntryTypes.InferenceInterrupted;

    private static readonly JsonWriterOptions Compact = new() { Indented = false };

    // More notes than this cannot be honest (no node has that many requests in flight): the rest are only counted.
    private const int MaxNotes = 4_096;
    private const int MaxNoteBytes = 4_096;

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
                json.WriteString("api", record.Api);
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

            var note = buffer.ToArray();
            DurableFile.CreateDirectory(directory);
            File.WriteAllBytes(path, [.. note, (byte)'\n', .. Encoding.ASCII.GetBytes(Mac(note))]);
        }

        return new Note(path);
    }

    /// <summary>
    /// Seals an <c>inference.interrupted</c> entry for each authentic note a previous run left, one <c>state.refused</c>
    /// counting the notes that were not (forged, damaged or in excess), then removes them all; returns how many were
    /// sealed as interrupted requests.
    /// </summary>
    public async Task<int> RecoverAsync(EntrySealer seal, TimeProvider clock, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(seal);
        if (directory is null || !Directory.Exists(directory))
        {
            return 0;
        }

        var files = Directory.EnumerateFiles(directory, "*.json").Order(StringComparer.Ordinal).ToList();
        var (recovered, refused) = (0, 0);
        foreach (var file in files)
        {
            if (recovered < MaxNotes && Read(file) is { } note)
            {
                var entry = new InferenceInterruptedEntry(Copied(note, "actor") ?? BrainEntries.System, Copied(note, "id"), Copied(note, "api"), Copied(note, "brain"),
                    Copied(note, "request"), Copied(note, "started"), null, Reason).Write(clock);
                await seal(entry, ct).ConfigureAwait(false);
                recovered++;
            }
            else
            {
                refused++;
            }

            File.Delete(file);
        }

        if (refused > 0)
        {
            var entry = new StateRefusedEntry("run/inflight",
                $"{refused} in-flight notes were not authentic (forged, damaged, or past {MaxNotes}) and were removed without being sealed as requests").Write(clock);
            await seal(entry, ct).ConfigureAwait(false);
        }

        return recovered;
    }

    private string Mac(ReadOnlySpan<byte> note) => Convert.ToBase64String(HMACSHA256.HashData(key, note));

    // What an interrupted entry copies from a note (bounded strings only): nothing a crafted note could inflate.
    private static string? Copied(JsonElement note, string member) =>
        note.TryGetProperty(member, out var value) && value.ValueKind == JsonValueKind.String && value.GetString()!.Length is > 0 and <= 200 ? value.GetString() : null;

    // A note is its JSON line, then the line's MAC; anything else, or a MAC that does not match, is not a note of ours.
    private JsonElement? Read(string file)
    {
        try
        {
            if (new FileInfo(file).Length > MaxNoteBytes)
            {
                return null;
            }

            var bytes = File.ReadAllBytes(file);
            var newline = Array.LastIndexOf(bytes, (byte)'\n');
            if (newline < 0)
            {
                return null;
            }

            var expected = Encoding.ASCII.GetBytes(Mac(bytes.AsSpan(0, newline)));
            if (!CryptographicOperations.FixedTimeEquals(expected, bytes.AsSpan(newline + 1)))
            {
                return null;
            }

            using var document = JsonDocument.Parse(bytes.AsMemory(0, newline));
            return document.RootElement.ValueKind == JsonValueKind.Object ? document.RootElement.Clone() : null;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
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
