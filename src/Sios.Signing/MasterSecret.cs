using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Sios.Signing;

/// <summary>
/// The operator's 32-byte master secret, from which SIOS derives its other secrets (the commitment secret first), kept
/// at rest as a small JSON text encrypted with the key passphrase: AES-256-GCM under a PBKDF2-HMAC-SHA256 key, with the
/// format name as associated data so a file of another format or version can never decrypt as this one.
/// </summary>
public sealed class MasterSecret : IDisposable
{
    /// <summary>Length of the secret in bytes.</summary>
    public const int Size = 32;

    /// <summary>The format name written in, and authenticated with, every exported file.</summary>
    public const string FormatName = "sios-master-secret/v1";

    /// <summary>The purpose whose derived key is the SPEC §2 commitment secret.</summary>
    public const string CommitmentNoncePurpose = "commitment-nonce/v1";

    /// <summary>PBKDF2 iterations written (OWASP 2023 guidance for PBKDF2-HMAC-SHA256, as for the signing keys).</summary>
    public const int Iterations = 600_000;

    internal const string KdfName = "pbkdf2-hmac-sha256";
    internal const string CipherName = "aes-256-gcm";
    internal const int SaltSize = 16;
    internal const int NonceSize = 12;
    internal const int TagSize = 16;

    // Above this a file could make loading take minutes, so it is refused rather than obeyed.
    private const int MaxIterations = 10_000_000;
    private const int MaxTextLength = 4_096;
    private const string WrongOrDamaged =
        "Cannot unlock the master secret: wrong passphrase, or the master key file is damaged.";

    private readonly byte[] _secret;
    private bool _disposed;

    private MasterSecret(byte[] secret) => _secret = secret;

    /// <summary>A new secret from the system's cryptographic random number generator.</summary>
    public static MasterSecret Generate() => new(RandomNumberGenerator.GetBytes(Size));

    /// <summary>A secret with known bytes, for tests that need stable derivations.</summary>
    internal static MasterSecret FromBytes(ReadOnlySpan<byte> secret)
    {
        if (secret.Length != Size)
        {
            throw new ArgumentException($"a master secret is {Size} bytes, not {secret.Length}", nameof(secret));
        }

        return new MasterSecret(secret.ToArray());
    }

    /// <summary>
    /// HMAC-SHA256(secret, UTF-8("sios/" + <paramref name="purpose"/>)): a 32-byte key for one purpose, independent
    /// of the keys for every other purpose. The caller owns (and should zero) the returned bytes.
    /// </summary>
    public byte[] DeriveKey(string purpose)
    {
        ArgumentException.ThrowIfNullOrEmpty(purpose);
        ObjectDisposedException.ThrowIf(_disposed, this);
        return HMACSHA256.HashData(_secret, Encoding.UTF8.GetBytes("sios/" + purpose));
    }

    /// <summary>The secret encrypted under <paramref name="passphrase"/>, as the text of a master key file.</summary>
    public string Export(string passphrase) =>
        Export(passphrase, Iterations, RandomNumberGenerator.GetBytes(SaltSize), RandomNumberGenerator.GetBytes(NonceSize));

    /// <summary>Export with chosen parameters, so tests can pin the output or keep PBKDF2 cheap.</summary>
    internal string Export(string passphrase, int iterations, byte[] salt, byte[] nonce)
    {
        ArgumentException.ThrowIfNullOrEmpty(passphrase);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var ciphertext = new byte[Size];
        var tag = new byte[TagSize];
        var key = DeriveWrappingKey(passphrase, salt, iterations);
        try
        {
            using var aes = new AesGcm(key, TagSize);
            aes.Encrypt(nonce, _secret, ciphertext, tag, Encoding.UTF8.GetBytes(FormatName));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }

        using var buffer = new MemoryStream();
        // The default encoder would write base64's '+' as \u002B; this file is never embedded in HTML, so keep it plain.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, NewLine = "\n", Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("format", FormatName);
            json.WriteString("kdf", KdfName);
            json.WriteNumber("iterations", iterations);
            json.WriteString("salt", Convert.ToBase64String(salt));
            json.WriteString("cipher", CipherName);
            json.WriteString("nonce", Convert.ToBase64String(nonce));
            json.WriteString("ciphertext", Convert.ToBase64String(ciphertext));
            json.WriteString("tag", Convert.ToBase64String(tag));
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    /// <summary>
    /// Decrypts a master key file's <paramref name="text"/>. Throws <see cref="KeyFormatException"/> when the text is
    /// not a master key file this version reads, and <see cref="KeyPassphraseException"/> when the passphrase is wrong
    /// or the file was altered (authenticated encryption cannot tell these apart).
    /// </summary>
    public static MasterSecret Import(string text, string passphrase)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentException.ThrowIfNullOrEmpty(passphrase);
        var file = Parse(text);
        var secret = new byte[Size];
        var key = DeriveWrappingKey(passphrase, file.Salt, file.Iterations);
        try
        {
            using var aes = new AesGcm(key, TagSize);
            aes.Decrypt(file.Nonce, file.Ciphertext, file.Tag, secret, Encoding.UTF8.GetBytes(FormatName));
        }
        catch (AuthenticationTagMismatchException e)
        {
            throw new KeyPassphraseException(WrongOrDamaged, e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }

        return new MasterSecret(secret);
    }

    /// <summary>Zeroes the secret; derivation and export refuse afterwards.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            CryptographicOperations.ZeroMemory(_secret);
            _disposed = true;
        }
    }

    private static byte[] DeriveWrappingKey(string passphrase, byte[] salt, int iterations) =>
        Rfc2898DeriveBytes.Pbkdf2(passphrase, salt, iterations, HashAlgorithmName.SHA256, 32);

    private static SealedFile Parse(string text)
    {
        if (text.Length > MaxTextLength)
        {
            throw new KeyFormatException($"The master key file is {text.Length} characters; a master key file is well under {MaxTextLength}.");
        }

        var members = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        try
        {
            using var document = JsonDocument.Parse(text);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new KeyFormatException("The master key file is not a JSON object.");
            }

            foreach (var member in document.RootElement.EnumerateObject())
            {
                if (!members.TryAdd(member.Name, member.Value.Clone()))
                {
                    throw new KeyFormatException($"The master key file names '{member.Name}' twice.");
                }
            }
        }
        catch (JsonException e)
        {
            throw new KeyFormatException($"The master key file is not valid JSON: {e.Message}", e);
        }

        var format = Text(members, "format");
        if (format != FormatName)
        {
            throw new KeyFormatException($"The master key file is in format '{format}'; this version of SIOS reads '{FormatName}'.");
        }

        string[] known = ["format", "kdf", "iterations", "salt", "cipher", "nonce", "ciphertext", "tag"];
        if (members.Keys.FirstOrDefault(name => !known.Contains(name)) is { } unknown)
        {
            throw new KeyFormatException($"The master key file has an unknown member '{unknown}'.");
        }

        if (Text(members, "kdf") != KdfName || Text(members, "cipher") != CipherName)
        {
            throw new KeyFormatException($"The master key file must use kdf '{KdfName}' and cipher '{CipherName}'.");
        }

        if (!members.TryGetValue("iterations", out var count) || count.ValueKind != JsonValueKind.Number
            || !count.TryGetInt32(out var iterations) || iterations is < 1 or > MaxIterations)
        {
            throw new KeyFormatException($"The master key file's iterations must be a whole number from 1 to {MaxIterations:N0}.");
        }

        return new SealedFile(
            iterations,
            Bytes(members, "salt", SaltSize),
            Bytes(members, "nonce", NonceSize),
            Bytes(members, "ciphertext", Size),
            Bytes(members, "tag", TagSize));
    }

    private static string Text(Dictionary<string, JsonElement> members, string name) =>
        members.TryGetValue(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new KeyFormatException($"The master key file has no text member '{name}'.");

    private static byte[] Bytes(Dictionary<string, JsonElement> members, string name, int length)
    {
        var encoded = Text(members, name);
        var bytes = new byte[length];
        if (!Convert.TryFromBase64String(encoded, bytes, out var written) || written != length)
        {
            throw new KeyFormatException($"The master key file's '{name}' must be {length} bytes in base64.");
        }

        return bytes;
    }

    private sealed record SealedFile(int Iterations, byte[] Salt, byte[] Nonce, byte[] Ciphertext, byte[] Tag);
}
