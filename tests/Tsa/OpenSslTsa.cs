using System.Diagnostics;
using System.Formats.Asn1;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;

namespace Sios.Tests.Tsa;

/// <summary>A test that needs <c>openssl</c> as its TSA; skipped, saying why, where it is missing.</summary>
public sealed class OpenSslFactAttribute : FactAttribute
{
    public OpenSslFactAttribute()
    {
        if (OpenSslTsa.Executable is null)
        {
            Skip = "no openssl on PATH: install Debian's 'openssl' package (.ci/run does); the RFC 3161 tests use 'openssl ts -reply' as their TSA";
        }
    }
}

/// <summary>
/// A throwaway time-stamp authority: a CA and a TSA certificate (critical timeStamping EKU) made with openssl in a temporary
/// folder, answering RFC 3161 queries with <c>openssl ts -reply</c>, one at a time (it keeps a serial file).
/// </summary>
internal sealed class OpenSslTsa : IDisposable
{
    private const string Config = """
        [ req ]
        distinguished_name = dn
        prompt = no
        [ dn ]
        CN = SIOS test CA
        [ ca_ext ]
        basicConstraints = critical,CA:TRUE
        keyUsage = critical,keyCertSign,cRLSign
        subjectKeyIdentifier = hash
        [ tsa_ext ]
        basicConstraints = critical,CA:FALSE
        keyUsage = critical,digitalSignature
        extendedKeyUsage = critical,timeStamping
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid
        [ tsa ]
        default_tsa = tsa_config
        [ tsa_config ]
        serial = ./tsaserial
        crypto_device = builtin
        signer_cert = ./tsa.pem
        certs = ./ca.pem
        signer_key = ./tsa.key
        signer_digest = sha256
        default_policy = 1.3.6.1.4.1.99999.1
        other_policies = 1.3.6.1.4.1.99999.2
        digests = sha256
        accuracy = secs:1
        ordering = yes
        tsa_name = yes
        ess_cert_id_chain = no
        ess_cert_id_alg = sha256
        """;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private int _replies;

    private OpenSslTsa(string dir) => Dir = dir;

    /// <summary>The openssl program, or null when there is none.</summary>
    public static string? Executable { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
        .Select(dir => Path.Combine(dir, "openssl")).FirstOrDefault(File.Exists);

    public string Dir { get; }

    /// <summary>The CA's certificate (PEM): the usual trust anchor.</summary>
    public string CaPem => Path.Combine(Dir, "ca.pem");

    /// <summary>The TSA's own certificate (PEM).</summary>
    public string TsaPem => Path.Combine(Dir, "tsa.pem");

    /// <summary>Makes the CA and the TSA certificate (EC P-256, valid for a month).</summary>
    public static async Task<OpenSslTsa> CreateAsync()
    {
        var tsa = new OpenSslTsa(Path.Combine(Path.GetTempPath(), "sios-tsa-" + Guid.NewGuid().ToString("N")));
        Directory.CreateDirectory(tsa.Dir);
        await File.WriteAllTextAsync(Path.Combine(tsa.Dir, "tsa.cnf"), Config.Replace("\r", "", StringComparison.Ordinal) + "\n");
        await File.WriteAllTextAsync(Path.Combine(tsa.Dir, "tsaserial"), "01\n");
        await tsa.RunAsync("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "30", "-config", "tsa.cnf", "-extensions", "ca_ext");
        await tsa.RunAsync("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", "/CN=SIOS test TSA");
        await tsa.RunAsync("x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "tsa.pem", "-days", "30", "-extfile", "tsa.cnf", "-extensions", "tsa_ext");
        return tsa;
    }

    /// <summary>The TimeStampResp <c>openssl ts -reply</c> gives for <paramref name="query"/>.</summary>
    public async Task<byte[]> ReplyAsync(byte[] query)
    {
        await _gate.WaitAsync();
        try
        {
            var n = ++_replies;
            await File.WriteAllBytesAsync(Path.Combine(Dir, $"q{n}.tsq"), query);
            await RunAsync("ts", "-reply", "-config", "tsa.cnf", "-queryfile", $"q{n}.tsq", "-out", $"r{n}.tsr");
            return await File.ReadAllBytesAsync(Path.Combine(Dir, $"r{n}.tsr"));
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A DER token over <paramref name="imprint"/> (SHA-256), checked as a client would.</summary>
    public async Task<byte[]> TokenAsync(byte[] imprint)
    {
        var request = Rfc3161TimestampRequest.CreateFromHash(imprint, HashAlgorithmName.SHA256, nonce: RandomNumberGenerator.GetBytes(8), requestSignerCertificates: true);
        return request.ProcessResponse(await ReplyAsync(request.Encode()), out _).AsSignedCms().Encode();
    }

    /// <summary><paramref name="query"/> with its imprint and/or nonce replaced, its other fields kept.</summary>
    public static byte[] Rewrite(byte[] query, byte[]? imprint = null, byte[]? nonce = null)
    {
        Assert.True(Rfc3161TimestampRequest.TryDecode(query, out var request, out _));
        return Rfc3161TimestampRequest.CreateFromHash(imprint ?? request!.GetMessageHash().ToArray(), HashAlgorithmName.SHA256,
            nonce: nonce ?? request!.GetNonce(), requestSignerCertificates: request!.RequestSignerCertificate).Encode();
    }

    /// <summary>
    /// A token over <paramref name="imprint"/> signed by a certificate openssl would refuse to sign with (RFC 3161 §2.3):
    /// made with .NET's own CMS signer, a self-signed certificate whose timeStamping EKU is <paramref name="critical"/>.
    /// </summary>
    public static byte[] TokenSignedWith(byte[] imprint, bool critical, out X509Certificate2 certificate)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=SIOS weak TSA", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.8")], critical));
        certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var info = new Rfc3161TimestampTokenInfo(new Oid("1.3.6.1.4.1.99999.1"), new Oid("2.16.840.1.101.3.4.2.1"), imprint, new byte[] { 7 }, DateTimeOffset.UtcNow);
        var cms = new SignedCms(new ContentInfo(new Oid("1.2.840.113549.1.9.16.1.4"), info.Encode()));
        var signer = new CmsSigner(SubjectIdentifierType.IssuerAndSerialNumber, certificate) { IncludeOption = X509IncludeOption.EndCertOnly };
        // signing-certificate-v2 (RFC 5035): ESSCertIDv2 with the default hash, SHA-256 of the certificate.
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        using (writer.PushSequence())
        using (writer.PushSequence())
        {
            writer.WriteOctetString(SHA256.HashData(certificate.RawData));
        }

        signer.SignedAttributes.Add(new AsnEncodedData("1.2.840.113549.1.9.16.2.47", writer.Encode()));
        cms.ComputeSignature(signer);
        return cms.Encode();
    }

    public void Dispose()
    {
        _gate.Dispose();
        Directory.Delete(Dir, recursive: true);
    }

    private async Task RunAsync(params string[] args)
    {
        var info = new ProcessStartInfo(Executable!) { WorkingDirectory = Dir, RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw;
        }

        Assert.True(process.ExitCode == 0, $"openssl {string.Join(' ', args)}: {await stderr}");
    }
}

/// <summary>
/// The TSA over HTTP on 127.0.0.1 (RFC 3161 §3.4): POSTed queries are piped to <c>openssl ts -reply</c>. Until
/// <see cref="Start"/> nothing listens on its port, as with a TSA that is down.
/// </summary>
internal sealed class TsaHttpServer : IAsyncDisposable
{
    private readonly OpenSslTsa _tsa;
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private int _requests;

    private TsaHttpServer(OpenSslTsa tsa)
    {
        _tsa = tsa;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            Port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
        }

        Url = new Uri($"http://127.0.0.1:{Port}/tsa");
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
    }

    public int Port { get; }

    /// <summary>A server for <paramref name="tsa"/> on a free port, not yet listening.</summary>
    public static TsaHttpServer Create(OpenSslTsa tsa) => new(tsa);

    public Uri Url { get; }

    /// <summary>Queries answered so far.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Changes each query before openssl sees it (a TSA that answers for something else).</summary>
    public Func<byte[], byte[]>? RewriteQuery { get; set; }

    public void Start()
    {
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_listener.IsListening)
        {
            _listener.Stop();
        }

        if (_loop is not null)
        {
            await _loop;
        }

        _listener.Close();
        _stop.Dispose();
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            try
            {
                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body, _stop.Token);
                var query = body.ToArray();
                if (!string.Equals(context.Request.ContentType, "application/timestamp-query", StringComparison.Ordinal) || query.Length > 64 * 1024)
                {
                    context.Response.StatusCode = 400;
                }
                else
                {
                    var reply = await _tsa.ReplyAsync(RewriteQuery is { } rewrite ? rewrite(query) : query);
                    Interlocked.Increment(ref _requests);
                    context.Response.ContentType = "application/timestamp-reply";
                    context.Response.ContentLength64 = reply.Length;
                    await context.Response.OutputStream.WriteAsync(reply, _stop.Token);
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                context.Response.StatusCode = 500;
            }
            finally
            {
                context.Response.Close();
            }
        }
    }
}
