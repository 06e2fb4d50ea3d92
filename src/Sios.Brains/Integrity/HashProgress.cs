namespace Sios.Brains.Integrity;

/// <summary>Progress of hashing one weight file, for a progress bar.</summary>
/// <param name="File">Full path of the file being hashed.</param>
/// <param name="Hashed">Bytes hashed so far.</param>
/// <param name="Length">The file's length when hashing began.</param>
public readonly record struct HashProgress(string File, long Hashed, long Length);
