using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Sios.Ledger.Durable;

namespace Sios.Witness;

/// <summary>
/// The witness's append-only record of every cosignature it made, one file. Each record is a header line
/// <c>sios-witness-record/v1 LENGTH SHA256HEX</c> (LENGTH in decimal bytes, the SHA-256 of the note in lowercase hex)
/// followed by exactly LENGTH bytes: the cosigned checkpoint as a signed note (checkpoint text, blank line, the log
/// signature lines the witness verified, then its own cosignature lines). A record is fsynced before its cosignature is
/// answered, so it is the witness's commit point; a record a crash cut short was never answered and is cut off at the
/// next open, while damage anywhere before the last record refuses the open.
/// </summary>
internal sealed class WitnessRecord : IDisposable
{
    /// <summary>The first word of every record header.</summary>
    public const string Magic = "sios-witness-record/v1";

    private readonly FileStream _file;
    private bool _broken;

    private WitnessRecord(FileStream file) => _file = file;

    /// <summary>Opens (creating) the record at <paramref name="path"/> and returns every complete note in order.</summary>
    public static WitnessRecord Open(string path, out IReadOnlyList<byte[]> notes)
    {
        var created = !File.Exists(path);
        var file = new FileStream(path, DurableFile.Options(FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read));
        try
        {
            if (created)
            {
                DurableFile.SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            }

            var bytes = new byte[file.Length];
            file.ReadExactly(bytes);
            var (read, end) = Scan(bytes, path);
            if (end < bytes.Length)
            {
                file.SetLength(end);
                file.Flush(flushToDisk: true);
            }

            file.Position = end;
            notes = read;
            return new WitnessRecord(file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Appends one note and fsyncs it; a failed append is cut off again, or the record refuses all further appends.</summary>
    public void Append(ReadOnlySpan<byte> note)
    {
        if (_broken)
        {
            throw new IOException("the witness record could not be repaired after a failed append; restart the witness");
        }

        var start = _file.Position;
        try
        {
            _file.Write(Encoding.ASCII.GetBytes(Header(note)));
            _file.Write(note);
            _file.Flush(flushToDisk: true);
        }
        catch
        {
            try
            {
                _file.SetLength(start);
                _file.Position = start;
                _file.Flush(flushToDisk: true);
            }
            catch (IOException)
            {
                // Garbage would sit before the next record and refuse the next open: take no more.
                _broken = true;
            }

            throw;
        }
    }

    private static string Header(ReadOnlySpan<byte> note) =>
        string.Create(CultureInfo.InvariantCulture, $"{Magic} {note.Length} {Convert.ToHexStringLower(SHA256.HashData(note))}\n");

    /// <summary>The complete records, and the offset where they end (a torn last record starts there).</summary>
    private static (List<byte[]> Notes, int End) Scan(byte[] bytes, string path)
    {
        var notes = new List<byte[]>();
        var position = 0;
        while (position < bytes.Length)
        {
            var rest = bytes.AsSpan(position);
            var newline = rest.IndexOf((byte)'\n');
            if (newline < 0)
            {
                break;
            }

            if (!TryParseHeader(rest[..newline], out var length, out var sha256))
            {
                throw new InvalidDataException($"the witness record {path} is damaged at byte {position}: not a record header");
            }

            var body = rest[(newline + 1)..];
            if (body.Length < length)
            {
                break;
            }

            var note = body[..length];
            if (!Hashes(note, sha256))
            {
                if (body.Length == length)
                {
                    break;
                }

                throw new InvalidDataException($"the witness record {path} is damaged at byte {position}: its hash does not match");
            }

            notes.Add(note.ToArray());
            position += newline + 1 + length;
        }

        return (notes, position);
    }

    /// <summary>
    /// Up to <paramref name="maxRecords"/> complete records (at most about <paramref name="maxBytes"/> of notes) from byte
    /// <paramref name="offset"/> of the record at <paramref name="path"/>, each with its offset, and the offset after the
    /// last one read, for a reader paging through while the witness appends. An offset that is not a record's start, or
    /// a record that does not hash to its header, throws <see cref="InvalidDataException"/>.
    /// </summary>
    public static (List<(long Offset, byte[] Note)> Records, long Next) ReadPage(string path, long offset, int maxRecords, int maxBytes)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var records = new List<(long, byte[])>();
        var position = offset;
        var read = 0;
        var header = new byte[Magic.Length + 1 + 20 + 1 + 64 + 1];
        while (records.Count < maxRecords && read < maxBytes && position < file.Length)
        {
            file.Position = position;
            var got = file.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
            var newline = header.AsSpan(0, got).IndexOf((byte)'\n');
            if (newline < 0)
            {
                break;
            }

            if (!TryParseHeader(header.AsSpan(0, newline), out var length, out var sha256) || length > 1 << 20)
            {
                throw new InvalidDataException($"byte {position} of the witness record is not the start of a record");
            }

            if (position + newline + 1 + length > file.Length)
            {
                break;
            }

            var note = new byte[length];
            file.Position = position + newline + 1;
            file.ReadExactly(note);
            if (!Hashes(note, sha256))
            {
                throw new InvalidDataException($"the record at byte {position} of the witness record does not match its hash");
            }

            records.Add((position, note));
            position += newline + 1 + length;
            read += length;
        }

        return (records, position);
    }

    /// <summary>A header line (its newline excluded): the note's length and its SHA-256 in hex; false when it is none.</summary>
    private static bool TryParseHeader(ReadOnlySpan<byte> line, out int length, out string sha256)
    {
        var fields = Encoding.ASCII.GetString(line).Split(' ');
        sha256 = fields.Length == 3 ? fields[2] : "";
        length = 0;
        return fields.Length == 3 && string.Equals(fields[0], Magic, StringComparison.Ordinal)
            && int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out length);
    }

    private static bool Hashes(ReadOnlySpan<byte> note, string sha256) =>
        string.Equals(Convert.ToHexStringLower(SHA256.HashData(note)), sha256, StringComparison.Ordinal);

    /// <summary>Closes the file.</summary>
    public void Dispose() => _file.Dispose();
}
