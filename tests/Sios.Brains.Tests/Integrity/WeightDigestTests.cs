using System.Security.Cryptography;
using CsCheck;
using Sios.Brains.Integrity;
using Sios.Brains.Tests.Registry;

namespace Sios.Brains.Tests.Integrity;

public sealed class WeightDigestTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static string Expected(byte[] bytes) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(55)]
    [InlineData(64)]
    [InlineData(WeightDigest.BlockSize - 1)]
    [InlineData(WeightDigest.BlockSize)]
    [InlineData(WeightDigest.BlockSize + 1)]
    [InlineData((3 * WeightDigest.BlockSize) + 17)]
    public async Task Equals_SHA256_of_the_whole_file(int length)
    {
        var bytes = RandomNumberGenerator.GetBytes(length);
        var path = _folder.File($"f{length}");
        await File.WriteAllBytesAsync(path, bytes);
        Assert.Equal(Expected(bytes), await WeightDigest.ComputeAsync(path));
    }

    [Fact]
    public void Equals_SHA256_on_random_files_of_random_sizes_around_the_block_size()
    {
        var sizes = Gen.OneOf(Gen.Int[0, 4_096], Gen.Int[WeightDigest.BlockSize - 64, WeightDigest.BlockSize + 64], Gen.Int[0, (2 * WeightDigest.BlockSize) + 100]);
        Gen.Select(sizes, Gen.Int).Sample((size, seed) =>
        {
            var bytes = new byte[size];
            new Random(seed).NextBytes(bytes);
            var path = _folder.File($"p{size}-{seed}");
            File.WriteAllBytes(path, bytes);
            try
            {
                return WeightDigest.ComputeAsync(path).GetAwaiter().GetResult() == Expected(bytes);
            }
            finally
            {
                File.Delete(path);
            }
        }, iter: 40);
    }

    [Fact]
    public async Task Reports_growing_progress_ending_at_the_length()
    {
        var length = (2 * WeightDigest.BlockSize) + 5;
        var path = _folder.RandomFile("progress", length);
        var reports = new List<long>();
        await WeightDigest.ComputeAsync(path, new Recorder(reports));
        Assert.Equal([WeightDigest.BlockSize, 2L * WeightDigest.BlockSize, length], reports);
    }

    [Fact]
    public async Task Stops_when_cancelled()
    {
        var path = _folder.RandomFile("cancel", 3 * WeightDigest.BlockSize);
        using var cancel = new CancellationTokenSource();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => WeightDigest.ComputeAsync(path, null, cancel.Token));
    }

    [Fact]
    public async Task Verify_returns_the_digest_when_it_matches()
    {
        var path = _folder.RandomFile("ok", 1000);
        var digest = Expected(await File.ReadAllBytesAsync(path));
        Assert.Equal(digest, await WeightDigest.VerifyAsync(path, digest));
    }

    [Fact]
    public async Task Verify_names_the_file_and_both_digests_on_a_mismatch()
    {
        var path = _folder.RandomFile("bad.gguf", 1000);
        var bytes = await File.ReadAllBytesAsync(path);
        var pinned = Expected(bytes);
        bytes[500] ^= 1;
        await File.WriteAllBytesAsync(path, bytes);
        var e = await Assert.ThrowsAsync<WeightMismatchException>(() => WeightDigest.VerifyAsync(path, pinned, "model"));
        Assert.Equal(path, e.File);
        Assert.Equal(pinned, e.Expected);
        Assert.Equal(Expected(bytes), e.Actual);
        Assert.Equal($"model file {path} does not match its pinned digest: expected {pinned}, actual {Expected(bytes)}", e.Message);
    }

    [Fact]
    public async Task Verify_reports_a_missing_file_as_a_mismatch_without_an_actual_digest()
    {
        var path = _folder.File("gone.gguf");
        var pinned = Expected([]);
        var e = await Assert.ThrowsAsync<WeightMismatchException>(() => WeightDigest.VerifyAsync(path, pinned, "adapter"));
        Assert.Null(e.Actual);
        Assert.Equal($"adapter file {path} is missing; it was pinned to {pinned}", e.Message);
    }

    [Fact]
    public async Task Verify_rejects_a_malformed_expected_digest()
    {
        var path = _folder.RandomFile("x", 10);
        await Assert.ThrowsAsync<ArgumentException>(() => WeightDigest.VerifyAsync(path, "sha256:ABC"));
    }

    [Theory]
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", true)]
    [InlineData("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", false)]
    [InlineData("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", false)]
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85", false)]
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 ", false)]
    [InlineData("sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", false)]
    [InlineData("sha256:g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void IsWellFormed_accepts_only_sha256_and_64_lowercase_hex(string? digest, bool expected) =>
        Assert.Equal(expected, WeightDigest.IsWellFormed(digest));

    [Fact]
    public void Format_writes_the_prefix_and_lowercase_hex_of_exactly_32_bytes()
    {
        Assert.Equal("sha256:" + new string('a', 64), WeightDigest.Format(Enumerable.Repeat((byte)0xaa, 32).ToArray()));
        Assert.Throws<ArgumentException>(() => WeightDigest.Format(new byte[31]));
    }

    private sealed class Recorder(List<long> reports) : IProgress<long>
    {
        public void Report(long value) => reports.Add(value);
    }
}
