using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using Sios.Verify.Notes;

namespace Sios.Verify.Timestamps;

/// <summary>An RFC 3161 token that verified: when the TSA says the checkpoint existed, and which TSA said so.</summary>
/// <param name="Time">The token's genTime.</param>
/// <param name="Accuracy">The accuracy the TSA claims for it, or null when the token states none.</param>
/// <param name="Tsa">The subject of the certificate that signed it.</param>
/// <param name="SerialNumber">The token's serial number (hex), unique per TSA.</param>
public sealed record VerifiedTimestamp(DateTimeOffset Time, TimeSpan? Accuracy, string Tsa, string SerialNumber);

/// <summary>
/// Checks RFC 3161 time-stamp tokens over checkpoints (SPEC §6): the message imprint is SHA-256 of the checkpoint's note
/// text (the signed lines, not the signatures, so cosignatures added later do not matter), the TSA's signature verifies,
/// its certificate has exactly one extended key usage extension, critical and holding timeStamping (RFC 3161 §2.3), and
/// it is, or chains at the token's time to, a certificate the verifier was given.
/// </summary>
public sealed class TimestampVerifier
{
    /// <summary>Largest token accepted, in bytes: a token with its TSA's chain is a few kilobytes.</summary>
    public const int MaxTokenBytes = 64 * 1024;

    /// <summary>Largest PEM file of trusted certificates accepted, in bytes.</summary>
    public const int MaxPemBytes = 1 << 20;

    /// <summary>id-kp-timeStamping.</summary>
    public const string TimeStampingOid = "1.3.6.1.5.5.7.3.8";

    private const string Sha256Oid = "2.16.840.1.101.3.4.2.1";

    private readonly X509Certificate2Collection _trusted;

    /// <summary>Creates a verifier trusting <paramref name="trusted"/>: the TSA's own certificate, or the root CA that issued it.</summary>
    public TimestampVerifier(X509Certificate2Collection trusted)
    {
        ArgumentNullException.ThrowIfNull(trusted);
        if (trusted.Count == 0)
        {
            throw new ArgumentException("at least one trusted certificate is needed", nameof(trusted));
        }

        _trusted = trusted;
    }

    /// <summary>A verifier trusting every certificate in <paramref name="pem"/>; a text with none is a format violation.</summary>
    public static TimestampVerifier FromPem(string pem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        if (pem.Length > MaxPemBytes)
        {
            throw new FormatViolationException($"the certificate file is over {MaxPemBytes} bytes");
        }

        var trusted = new X509Certificate2Collection();
        try
        {
            trusted.ImportFromPem(pem);
        }
        catch (CryptographicException e)
        {
            throw new FormatViolationException($"the certificate file does not parse: {e.Message}", e);
        }

        return trusted.Count == 0
            ? throw new FormatViolationException("the file holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
            : new TimestampVerifier(trusted);
    }

    /// <summary>The message imprint of a checkpoint: SHA-256 of its note text (the lines before the signatures, with their final newline).</summary>
    public static byte[] Imprint(SignedNote checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        return SHA256.HashData(checkpoint.TextBytes);
    }

    /// <summary>The message imprint of the signed checkpoint note <paramref name="checkpointNote"/>.</summary>
    public static byte[] Imprint(ReadOnlySpan<byte> checkpointNote) => Imprint(SignedNote.Parse(checkpointNote));

    /// <summary>Verifies <paramref name="token"/> as dating <paramref name="checkpoint"/> (its note, already verified as the log's) under the trusted certificates.</summary>
    public VerifiedTimestamp Verify(ReadOnlyMemory<byte> token, SignedNote checkpoint)
    {
        // The signer may be one of the trusted certificates (a token that does not carry its own): never disposed here.
        var (decoded, signer) = CheckToken(token, Imprint(checkpoint), _trusted);
        var info = decoded.TokenInfo;
        if (!_trusted.Any(t => t.RawDataMemory.Span.SequenceEqual(signer.RawDataMemory.Span)))
        {
            RequireChain(signer, decoded.AsSignedCms().Certificates, info.Timestamp);
        }

        return new VerifiedTimestamp(info.Timestamp, info.AccuracyInMicroseconds is { } micros ? TimeSpan.FromMicroseconds(micros) : null,
            signer.Subject, Convert.ToHexStringLower(info.GetSerialNumber().Span));
    }

    /// <summary>
    /// What can be checked of a token without a trust anchor, as the log does before it stores one: it decodes (whole),
    /// its imprint is <paramref name="imprint"/> under SHA-256, and its signature verifies under the signer certificate it
    /// carries (or one of <paramref name="candidates"/>), which has the critical timeStamping EKU and was valid at its time.
    /// Returns the token and that certificate.
    /// </summary>
    public static (Rfc3161TimestampToken Token, X509Certificate2 Signer) CheckToken(ReadOnlyMemory<byte> token, ReadOnlySpan<byte> imprint, X509Certificate2Collection? candidates = null)
    {
        if (token.Length > MaxTokenBytes)
        {
            throw new FormatViolationException($"the time-stamp token is {token.Length} bytes, over the limit of {MaxTokenBytes}");
        }

        if (!Rfc3161TimestampToken.TryDecode(token, out var decoded, out var read) || read != token.Length)
        {
            // .NET refuses a token whose signer certificate breaks RFC 3161 §2.3 at decoding; say so rather than "does not parse".
            throw new VerificationException(SignerProblem(token) ?? "it is not an RFC 3161 time-stamp token (a DER TimeStampToken, CMS SignedData over TSTInfo)");
        }

        var info = decoded.TokenInfo;
        if (info.HashAlgorithmId.Value != Sha256Oid)
        {
            throw new VerificationException($"its message imprint uses {info.HashAlgorithmId.FriendlyName ?? info.HashAlgorithmId.Value}, not SHA-256");
        }

        if (!info.GetMessageHash().Span.SequenceEqual(imprint))
        {
            throw new VerificationException($"it dates another hash ({Convert.ToHexStringLower(info.GetMessageHash().Span)}), not SHA-256 of this checkpoint's note text ({Convert.ToHexStringLower(imprint)})");
        }

        if (!decoded.VerifySignatureForHash(imprint, HashAlgorithmName.SHA256, out var signer, candidates))
        {
            throw new VerificationException("the TSA's signature on it does not verify, or its signing certificate is missing, not the one it names, or not valid at its time");
        }

        if (EkuProblem(signer) is { } problem)
        {
            throw new VerificationException(problem);
        }

        return (decoded, signer);
    }

    private void RequireChain(X509Certificate2 signer, X509Certificate2Collection carried, DateTimeOffset time)
    {
        using var chain = new X509Chain();
        var policy = chain.ChainPolicy;
        policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        policy.CustomTrustStore.AddRange(_trusted);
        policy.ExtraStore.AddRange(carried);
        // Offline and as of the token's time: a TSA certificate that expired since still vouches for what it signed then.
        policy.RevocationMode = X509RevocationMode.NoCheck;
        policy.DisableCertificateDownloads = true;
        policy.VerificationTime = time.UtcDateTime;
        policy.ApplicationPolicy.Add(new Oid(TimeStampingOid));
        if (!chain.Build(signer))
        {
            var why = string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct(StringComparer.Ordinal));
            throw new VerificationException($"its TSA certificate ({signer.Subject}) is not a trusted certificate and does not chain to one: {(why.Length > 0 ? why : "no chain")}");
        }
    }

    /// <summary>Why <paramref name="certificate"/> may not sign time-stamps (RFC 3161 §2.3), or null when it may.</summary>
    private static string? EkuProblem(X509Certificate2 certificate)
    {
        var ekus = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().ToList();
        return ekus switch
        {
            [] => $"its TSA certificate ({certificate.Subject}) has no extended key usage: RFC 3161 §2.3 requires a critical timeStamping one",
            [{ Critical: false }] => $"its TSA certificate ({certificate.Subject}) has a non-critical extended key usage: RFC 3161 §2.3 requires it critical",
            [var eku] when !eku.EnhancedKeyUsages.Cast<Oid>().Any(o => o.Value == TimeStampingOid) => $"its TSA certificate ({certificate.Subject}) is not for time-stamping (no timeStamping extended key usage)",
            [_] => null,
            _ => $"its TSA certificate ({certificate.Subject}) has {ekus.Count} extended key usage extensions: RFC 3161 §2.3 allows one",
        };
    }

    private static string? SignerProblem(ReadOnlyMemory<byte> token)
    {
        try
        {
            var cms = new SignedCms();
            cms.Decode(token.Span);
            if (cms.SignerInfos.Count == 1 && cms.SignerInfos[0].Certificate is { } certificate)
            {
                using (certificate)
                {
                    return EkuProblem(certificate);
                }
            }
        }
        catch (CryptographicException)
        {
        }

        return null;
    }
}
