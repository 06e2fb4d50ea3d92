namespace Sios.Brains.Synth;

// The member names are the GGUF specification's own type names.
#pragma warning disable CA1720
/// <summary>The value types a GGUF metadata entry can hold (GGUF v3 numbering).</summary>
public enum GgufValueType : uint
{
    /// <summary>Unsigned 8-bit integer.</summary>
    UInt8 = 0,
    /// <summary>Signed 8-bit integer.</summary>
    Int8 = 1,
    /// <summary>Unsigned 16-bit integer.</summary>
    UInt16 = 2,
    /// <summary>Signed 16-bit integer.</summary>
    Int16 = 3,
    /// <summary>Unsigned 32-bit integer.</summary>
    UInt32 = 4,
    /// <summary>Signed 32-bit integer.</summary>
    Int32 = 5,
    /// <summary>IEEE 754 single.</summary>
    Float32 = 6,
    /// <summary>One byte, 0 or 1.</summary>
    Bool = 7,
    /// <summary>UTF-8 string prefixed by its 64-bit byte length.</summary>
    String = 8,
    /// <summary>Typed array: element type, 64-bit count, elements.</summary>
    Array = 9,
    /// <summary>Unsigned 64-bit integer.</summary>
    UInt64 = 10,
    /// <summary>Signed 64-bit integer.</summary>
    Int64 = 11,
    /// <summary>IEEE 754 double.</summary>
    Float64 = 12,
}
#pragma warning restore CA1720

/// <summary>The tensor element types this writer emits (ggml numbering).</summary>
public enum GgufTensorType : uint
{
    /// <summary>32-bit float.</summary>
    F32 = 0,
    /// <summary>16-bit IEEE half.</summary>
    F16 = 1,
}

/// <summary>The fixed numbers of the GGUF container.</summary>
public static class Gguf
{
    /// <summary>The magic "GGUF" read as a little-endian 32-bit integer.</summary>
    public const uint Magic = 0x46554747;

    /// <summary>The container version this code writes and reads.</summary>
    public const uint Version = 3;

    /// <summary>The data alignment llama.cpp assumes when general.alignment is absent.</summary>
    public const uint DefaultAlignment = 32;

    /// <summary>The metadata key that overrides the data alignment.</summary>
    public const string AlignmentKey = "general.alignment";

    /// <summary>Size in bytes of one element of <paramref name="type"/>.</summary>
    public static int ElementSize(GgufTensorType type) => type switch
    {
        GgufTensorType.F32 => 4,
        GgufTensorType.F16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Only F32 and F16 tensors are supported."),
    };
}
