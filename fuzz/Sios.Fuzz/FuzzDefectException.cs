namespace Sios.Fuzz;

/// <summary>A target's own check failed on an input the parser accepted: a defect, reported to AFL as a crash.</summary>
public sealed class FuzzDefectException : Exception
{
    /// <summary>A defect described by <paramref name="message"/>.</summary>
    public FuzzDefectException(string message) : base(message) { }

    /// <summary>A defect described by <paramref name="message"/>, caused by <paramref name="inner"/>.</summary>
    public FuzzDefectException(string message, Exception inner) : base(message, inner) { }

    /// <summary>A defect with no further description.</summary>
    public FuzzDefectException() { }
}
