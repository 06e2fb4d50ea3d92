using System.Text;
using Sios.Verify;

namespace Sios.Brains.Synth;

/// <summary>One tensor's entry in a GGUF tensor table.</summary>
/// <param name="Name">Tensor name, e.g. <c>blk.0.attn_q.weight</c>.</param>
/// <param name="Shape">Dimensions in ggml order (innermost first).</param>
/// <param name="Type">The ggml element type number.</param>
/// <param name="Offset">Byte offset of the data, relative to the start of the data section.</param>
public sealed record GgufTensorInfo(string Name, IReadOnlyList<long> Shape, uint Type, ulong Offset)
{
    /// <summary>Number of elements (product of the dimensions).</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, d) => a * d);
}

/// <summary>
/// The header of a GGUF file: metadata and tensor table, without the tensor data. Used to check a file before
/// handing it to llama.cpp and to shape LoRA adapters after their base.
/// </summary>
public sealed class GgufHeader
{
    private const int MaxStringBytes = 16 << 20;
    private const ulong MaxEntries = 1 << 24;

    private GgufHeader(uint version, uint alignment, IReadOnlyDictionary<string, object> metadata,
        IReadOnlyList<GgufTensorInfo> tensors, long dataOffset)
    {
        Version = version;
        Alignment = alignment;
        Metadata = metadata;
        Tensors = tensors;
        DataOffset = dataOffset;
    }

    /// <summary>The container version (2 or 3).</summary>
    public uint Version { get; }

    /// <summary>The data alignment in bytes.</summary>
    public uint Alignment { get; }

    /// <summary>Metadata by key: scalars as their CLR type, arrays as CLR arrays (strings as <c>string[]</c>).</summary>
    public IReadOnlyDictionary<string, object> Metadata { get; }

    /// <summary>The tensor table in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    /// <summary>Absolute file offset where the data section starts.</summary>
    public long DataOffset { get; }

    /// <summary>A string entry, or null when absent or of another type.</summary>
    public string? GetString(string key) => Metadata.TryGetValue(key, out var v) ? v as string : null;

    /// <summary>An unsigned integer entry of any width, or null when absent or not an unsigned integer.</summary>
    public ulong? GetUnsigned(string key) => Metadata.TryGetValue(key, out var v) ? v switch
    {
        byte b => b,
        ushort s => s,
        uint u => u,
        ulong l => l,
        _ => null,
    } : null;

    /// <summary>A tensor by name, or null.</summary>
    public GgufTensorInfo? FindTensor(string name) => Tensors.FirstOrDefault(t => t.Name == name);

    /// <summary>Reads the header of the file at <paramref name="path"/>.</summary>
    /// <exception cref="FormatViolationException">The file is not a well-formed GGUF v2/v3 file.</exception>
    public static GgufHeader Read(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Read(stream, path);
    }

    /// <summary>Reads a GGUF header from a seekable stream; <paramref name="name"/> labels errors.</summary>
    /// <exception cref="FormatViolationException">The stream is not a well-formed GGUF v2/v3 file.</exception>
    public static GgufHeader Read(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var r = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        try
        {
            return ReadCore(r, stream.Length, name);
        }
        catch (EndOfStreamException e)
        {
            throw new FormatViolationException($"'{name}' is not a valid GGUF file: it ends inside its header.", e);
        }
    }

    private static GgufHeader ReadCore(BinaryReader r, long length, string name)
    {
        if (length < 24 || r.ReadUInt32() != Gguf.Magic)
        {
            throw new FormatViolationException($"'{name}' is not a GGUF file (it does not start with the magic 'GGUF').");
        }

        var version = r.ReadUInt32();
        if (version is not (2 or 3))
        {
            throw new FormatViolationException($"'{name}' is GGUF version {version}; only versions 2 and 3 are supported.");
        }

        var tensorCount = r.ReadUInt64();
        var kvCount = r.ReadUInt64();
        if (tensorCount > MaxEntries || kvCount > MaxEntries)
        {
            throw new FormatViolationException($"'{name}' declares {tensorCount} tensors and {kvCount} metadata entries, over the limit of {MaxEntries}.");
        }

        var metadata = new Dictionary<string, object>(StringComparer.Ordinal);
        for (ulong i = 0; i < kvCount; i++)
        {
            var key = ReadString(r, length, name);
            var type = (GgufValueType)r.ReadUInt32();
            var value = ReadValue(r, type, length, name, key);
            if (!metadata.TryAdd(key, value))
            {
                throw new FormatViolationException($"'{name}' has the metadata key '{key}' twice.");
            }
        }

        uint alignment = Gguf.DefaultAlignment;
        if (metadata.TryGetValue(Gguf.AlignmentKey, out var a))
        {
            alignment = a is uint u && u != 0 && (u & (u - 1)) == 0
                ? u
                : throw new FormatViolationException($"'{name}' has an invalid {Gguf.AlignmentKey}: {a}.");
        }

        var tensors = new List<GgufTensorInfo>((int)tensorCount);
        for (ulong i = 0; i < tensorCount; i++)
        {
            var tensorName = ReadString(r, length, name);
            var dims = r.ReadUInt32();
            if (dims is < 1 or > 4)
            {
                throw new FormatViolationException($"'{name}': tensor '{tensorName}' has {dims} dimensions; GGUF allows 1 to 4.");
            }

            var shape = new long[dims];
            for (var d = 0; d < dims; d++)
            {
                var n = r.ReadUInt64();
                shape[d] = n is > 0 and <= long.MaxValue / 2
                    ? (long)n
                    : throw new FormatViolationException($"'{name}': tensor '{tensorName}' has an invalid dimension {n}.");
            }

            var type = r.ReadUInt32();
            var offset = r.ReadUInt64();
            if (offset % alignment != 0)
            {
                throw new FormatViolationException($"'{name}': tensor '{tensorName}' data offset {offset} is not aligned to {alignment}.");
            }

            tensors.Add(new GgufTensorInfo(tensorName, shape, type, offset));
        }

        var dataOffset = (r.BaseStream.Position + alignment - 1) / alignment * alignment;
        foreach (var t in tensors)
        {
            var size = t.Type switch
            {
                (uint)GgufTensorType.F32 => 4L,
                (uint)GgufTensorType.F16 => 2L,
                _ => 0L,
            };
            if (dataOffset + (long)t.Offset + size * t.ElementCount > length)
            {
                throw new FormatViolationException($"'{name}': tensor '{t.Name}' lies past the end of the file (it is truncated).");
            }
        }

        return new GgufHeader(version, alignment, metadata, tensors, dataOffset);
    }

    private static string ReadString(BinaryReader r, long length, string name)
    {
        var n = r.ReadUInt64();
        if (n > MaxStringBytes || (long)n > length - r.BaseStream.Position)
        {
            throw new FormatViolationException($"'{name}' has a string of {n} bytes at offset {r.BaseStream.Position - 8}, past the file or the {MaxStringBytes}-byte limit.");
        }

        var bytes = r.ReadBytes((int)n);
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new FormatViolationException($"'{name}' has a string that is not valid UTF-8.", e);
        }
    }

    private static object ReadValue(BinaryReader r, GgufValueType type, long length, string name, string key)
    {
        switch (type)
        {
            case GgufValueType.UInt8: return r.ReadByte();
            case GgufValueType.Int8: return r.ReadSByte();
            case GgufValueType.UInt16: return r.ReadUInt16();
            case GgufValueType.Int16: return r.ReadInt16();
            case GgufValueType.UInt32: return r.ReadUInt32();
            case GgufValueType.Int32: return r.ReadInt32();
            case GgufValueType.Float32: return r.ReadSingle();
            case GgufValueType.Bool:
                var b = r.ReadByte();
                return b <= 1 ? b == 1 : throw new FormatViolationException($"'{name}': boolean '{key}' has the byte {b}.");
            case GgufValueType.String: return ReadString(r, length, name);
            case GgufValueType.UInt64: return r.ReadUInt64();
            case GgufValueType.Int64: return r.ReadInt64();
            case GgufValueType.Float64: return r.ReadDouble();
            case GgufValueType.Array: return ReadArray(r, length, name, key);
            default: throw new FormatViolationException($"'{name}': metadata '{key}' has the unknown value type {(uint)type}.");
        }
    }

    private static Array ReadArray(BinaryReader r, long length, string name, string key)
    {
        var elementType = (GgufValueType)r.ReadUInt32();
        var count = r.ReadUInt64();
        if (elementType == GgufValueType.Array)
        {
            throw new FormatViolationException($"'{name}': metadata '{key}' is an array of arrays, which is not supported.");
        }

        if (count > MaxEntries || (long)count > length - r.BaseStream.Position)
        {
            throw new FormatViolationException($"'{name}': array '{key}' declares {count} elements, more than the file can hold.");
        }

        var n = (int)count;
        switch (elementType)
        {
            case GgufValueType.String:
                var strings = new string[n];
                for (var i = 0; i < n; i++)
                {
                    strings[i] = ReadString(r, length, name);
                }

                return strings;
            case GgufValueType.Int32:
                var ints = new int[n];
                for (var i = 0; i < n; i++)
                {
                    ints[i] = r.ReadInt32();
                }

                return ints;
            case GgufValueType.UInt32:
                var uints = new uint[n];
                for (var i = 0; i < n; i++)
                {
                    uints[i] = r.ReadUInt32();
                }

                return uints;
            case GgufValueType.Float32:
                var floats = new float[n];
                for (var i = 0; i < n; i++)
                {
                    floats[i] = r.ReadSingle();
                }

                return floats;
            default:
                var values = new object[n];
                for (var i = 0; i < n; i++)
                {
                    values[i] = ReadValue(r, elementType, length, name, key);
                }

                return values;
        }
    }
}
