using System.Buffers.Binary;
using System.Text;

namespace Sios.Brains.Synth;

/// <summary>
/// Writes a GGUF v3 file: header, typed metadata (scalars and arrays), tensor infos and aligned tensor data.
/// Entries are written in the order they were added, so the same calls always give the same bytes.
/// </summary>
public sealed class GgufWriter
{
    private readonly List<(string Key, GgufValueType Type, Action<BinaryWriter> Write)> _metadata = [];
    private readonly List<PendingTensor> _tensors = [];
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly HashSet<string> _tensorNames = new(StringComparer.Ordinal);

    /// <summary>Creates a writer whose tensor data is aligned to <paramref name="alignment"/> bytes.</summary>
    public GgufWriter(uint alignment = Gguf.DefaultAlignment)
    {
        if (alignment == 0 || (alignment & (alignment - 1)) != 0 || alignment % 8 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "Alignment must be a power of two and a multiple of 8.");
        }

        Alignment = alignment;
        if (alignment != Gguf.DefaultAlignment)
        {
            AddUInt32(Gguf.AlignmentKey, alignment);
        }
    }

    /// <summary>The alignment of the data section and of every tensor in it.</summary>
    public uint Alignment { get; }

    /// <summary>Number of metadata entries added so far.</summary>
    public int MetadataCount => _metadata.Count;

    /// <summary>Number of tensors added so far.</summary>
    public int TensorCount => _tensors.Count;

    /// <summary>Adds a UTF-8 string entry.</summary>
    public GgufWriter AddString(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return Add(key, GgufValueType.String, w => WriteString(w, value));
    }

    /// <summary>Adds an unsigned 8-bit entry.</summary>
    public GgufWriter AddUInt8(string key, byte value) => Add(key, GgufValueType.UInt8, w => w.Write(value));

    /// <summary>Adds an unsigned 32-bit entry.</summary>
    public GgufWriter AddUInt32(string key, uint value) => Add(key, GgufValueType.UInt32, w => w.Write(value));

    /// <summary>Adds a signed 32-bit entry.</summary>
    public GgufWriter AddInt32(string key, int value) => Add(key, GgufValueType.Int32, w => w.Write(value));

    /// <summary>Adds an unsigned 64-bit entry.</summary>
    public GgufWriter AddUInt64(string key, ulong value) => Add(key, GgufValueType.UInt64, w => w.Write(value));

    /// <summary>Adds a 32-bit float entry.</summary>
    public GgufWriter AddFloat32(string key, float value) => Add(key, GgufValueType.Float32, w => w.Write(value));

    /// <summary>Adds a boolean entry (one byte).</summary>
    public GgufWriter AddBool(string key, bool value) => Add(key, GgufValueType.Bool, w => w.Write(value ? (byte)1 : (byte)0));

    /// <summary>Adds an array of strings.</summary>
    public GgufWriter AddStringArray(string key, IReadOnlyList<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var copy = values.ToArray();
        return AddArray(key, GgufValueType.String, copy.Length, w =>
        {
            foreach (var s in copy)
            {
                WriteString(w, s);
            }
        });
    }

    /// <summary>Adds an array of signed 32-bit integers.</summary>
    public GgufWriter AddInt32Array(string key, IReadOnlyList<int> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var copy = values.ToArray();
        return AddArray(key, GgufValueType.Int32, copy.Length, w =>
        {
            foreach (var v in copy)
            {
                w.Write(v);
            }
        });
    }

    /// <summary>Adds an array of unsigned 32-bit integers.</summary>
    public GgufWriter AddUInt32Array(string key, IReadOnlyList<uint> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var copy = values.ToArray();
        return AddArray(key, GgufValueType.UInt32, copy.Length, w =>
        {
            foreach (var v in copy)
            {
                w.Write(v);
            }
        });
    }

    /// <summary>Adds an array of 32-bit floats.</summary>
    public GgufWriter AddFloat32Array(string key, IReadOnlyList<float> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var copy = values.ToArray();
        return AddArray(key, GgufValueType.Float32, copy.Length, w =>
        {
            foreach (var v in copy)
            {
                w.Write(v);
            }
        });
    }

    /// <summary>
    /// Adds a tensor. <paramref name="shape"/> is in ggml order (innermost dimension first);
    /// <paramref name="values"/> is called once, while writing, so only one tensor's values are in memory at a time.
    /// </summary>
    public GgufWriter AddTensor(string name, GgufTensorType type, IReadOnlyList<long> shape, Func<float[]> values)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(values);
        if (shape.Count is < 1 or > 4)
        {
            throw new ArgumentException($"Tensor '{name}' has {shape.Count} dimensions; GGUF allows 1 to 4.", nameof(shape));
        }

        long count = 1;
        foreach (var d in shape)
        {
            if (d <= 0)
            {
                throw new ArgumentException($"Tensor '{name}' has a non-positive dimension {d}.", nameof(shape));
            }

            count = checked(count * d);
        }

        _ = Gguf.ElementSize(type);
        if (!_tensorNames.Add(name))
        {
            throw new ArgumentException($"Tensor '{name}' was already added.", nameof(name));
        }

        _tensors.Add(new PendingTensor(name, type, [.. shape], count, values));
        return this;
    }

    /// <summary>Adds a tensor whose values are already in memory.</summary>
    public GgufWriter AddTensor(string name, GgufTensorType type, IReadOnlyList<long> shape, float[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return AddTensor(name, type, shape, () => values);
    }

    /// <summary>Writes the whole file to <paramref name="path"/>, replacing it only once the write has completed.</summary>
    public void WriteTo(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        var temp = full + ".tmp-" + Environment.ProcessId;
        try
        {
            using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                WriteTo(file);
                file.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>Writes the whole file to <paramref name="stream"/> (which need not be seekable).</summary>
    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        long position = 0;

        var header = new MemoryStream();
        using (var h = new BinaryWriter(header, Encoding.UTF8, leaveOpen: true))
        {
            h.Write(Gguf.Magic);
            h.Write(Gguf.Version);
            h.Write((ulong)_tensors.Count);
            h.Write((ulong)_metadata.Count);
            foreach (var (key, type, write) in _metadata)
            {
                WriteString(h, key);
                h.Write((uint)type);
                write(h);
            }

            ulong offset = 0;
            foreach (var t in _tensors)
            {
                WriteString(h, t.Name);
                h.Write((uint)t.Shape.Length);
                foreach (var d in t.Shape)
                {
                    h.Write((ulong)d);
                }

                h.Write((uint)t.Type);
                h.Write(offset);
                offset += (ulong)PadTo(t.ByteLength, Alignment);
            }
        }

        header.Position = 0;
        header.CopyTo(stream);
        position += header.Length;
        position = WritePadding(stream, position);

        foreach (var t in _tensors)
        {
            var values = t.Values() ?? throw new InvalidOperationException($"Tensor '{t.Name}' produced no values.");
            if (values.LongLength != t.Count)
            {
                throw new InvalidOperationException($"Tensor '{t.Name}' produced {values.LongLength} values; its shape needs {t.Count}.");
            }

            WriteElements(stream, values, t.Type);
            position += t.ByteLength;
            position = WritePadding(stream, position);
        }

        stream.Flush();
    }

    private GgufWriter Add(string key, GgufValueType type, Action<BinaryWriter> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (!_keys.Add(key))
        {
            throw new ArgumentException($"Metadata key '{key}' was already added.", nameof(key));
        }

        _metadata.Add((key, type, write));
        return this;
    }

    private GgufWriter AddArray(string key, GgufValueType elementType, int count, Action<BinaryWriter> writeElements) =>
        Add(key, GgufValueType.Array, w =>
        {
            w.Write((uint)elementType);
            w.Write((ulong)count);
            writeElements(w);
        });

    private static void WriteString(BinaryWriter w, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static void WriteElements(Stream stream, float[] values, GgufTensorType type)
    {
        var size = Gguf.ElementSize(type);
        const int chunk = 1 << 14;
        var buffer = new byte[chunk * size];
        for (var start = 0; start < values.Length; start += chunk)
        {
            var n = Math.Min(chunk, values.Length - start);
            for (var i = 0; i < n; i++)
            {
                var v = values[start + i];
                if (type == GgufTensorType.F32)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(i * 4), v);
                }
                else
                {
                    BinaryPrimitives.WriteHalfLittleEndian(buffer.AsSpan(i * 2), (Half)v);
                }
            }

            stream.Write(buffer, 0, n * size);
        }
    }

    private long WritePadding(Stream stream, long position)
    {
        var padded = PadTo(position, Alignment);
        for (var i = position; i < padded; i++)
        {
            stream.WriteByte(0);
        }

        return padded;
    }

    private static long PadTo(long value, uint alignment) => (value + alignment - 1) / alignment * alignment;

    private sealed record PendingTensor(string Name, GgufTensorType Type, long[] Shape, long Count, Func<float[]> Values)
    {
        public long ByteLength => Count * Gguf.ElementSize(Type);
    }
}
