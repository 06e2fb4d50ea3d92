namespace Sios.Brains.Integrity;

/// <summary>
/// A weight file no longer holds the bytes its digest was pinned to (or is gone): the brain must not answer.
/// The message names the file and both digests.
/// </summary>
public sealed class WeightMismatchException : Exception
{
    /// <summary>
    /// Creates the exception for <paramref name="file"/>; <paramref name="actual"/> is null when the file is missing.
    /// <paramref name="role"/> says what the file is to its brain ("model", "adapter") and begins the message.
    /// </summary>
    public WeightMismatchException(string file, string expected, string? actual, string role = "weight")
        : base(actual is null
            ? $"{role} file {file} is missing; it was pinned to {expected}"
            : $"{role} file {file} does not match its pinned digest: expected {expected}, actual {actual}")
    {
        File = file;
        Expected = expected;
        Actual = actual;
    }

    private WeightMismatchException(WeightMismatchException mismatch, Exception sealFailure)
        : base($"{mismatch.Message}; the refusal could not be sealed: {sealFailure.Message}", sealFailure)
    {
        File = mismatch.File;
        Expected = mismatch.Expected;
        Actual = mismatch.Actual;
    }

    /// <summary>Creates the exception with a message only (prefer the other constructor).</summary>
    public WeightMismatchException(string message) : base(message)
    {
        File = "";
        Expected = "";
    }

    /// <summary>Creates the exception with a message and cause (prefer the other constructor).</summary>
    public WeightMismatchException(string message, Exception inner) : base(message, inner)
    {
        File = "";
        Expected = "";
    }

    /// <summary>Creates the exception with no message (prefer the other constructor).</summary>
    public WeightMismatchException()
    {
        File = "";
        Expected = "";
    }

    /// <summary>The full path of the weight file.</summary>
    public string File { get; }

    /// <summary>The pinned digest, <c>sha256:&lt;hex&gt;</c>.</summary>
    public string Expected { get; }

    /// <summary>The digest of the file's current bytes, or null when the file is missing.</summary>
    public string? Actual { get; }

    /// <summary>The same mismatch, adding that its <c>brain.refused</c> entry could not be sealed (the inner exception says why).</summary>
    public WeightMismatchException WithSealFailure(Exception sealFailure)
    {
        ArgumentNullException.ThrowIfNull(sealFailure);
        return new WeightMismatchException(this, sealFailure);
    }
}
