using System.Buffers.Binary;
using System.Text;

namespace Sios.Brains.Tests.Synth;

/// <summary>
/// A deliberately separate GGUF reader written from the specification for these tests only, so the writer is
/// checked against an independent reading rather than against its own production reader.
/// </summary>
internal sealed class TestGgufReader
{
    public sealed record Tensor(string Name, ulong[] Dims, uint Type, ulong Offset);

    public uint Version { get; private set; }
    public List<(string Key, uint Type, object Value)> Entries { get; } = [];
    public List<Tensor> Tensors { get; } = [];
    public long DataStart { get; private set; }
    public long HeaderEnd { get; private set; }
    public byte[] Bytes { get; }
    private int _pos;

    public TestGgufReader(byte[] bytes)
    {
        Bytes = bytes;
        Assert.Equal("GGUF", Encoding.ASCII.GetString(bytes, 0, 4));
        _pos = 4;
        Version = U32();
        var tensors = U64();
        var kvs = U64();
        for (ulong i = 0; i < kvs; i++)
        {
            var key = Str();
            var type = U32();
            Entries.Add((key, type, Value(type)));
        }

        for (ulong i = 0; i < tensors; i++)
        {
            var name = Str();
            var n = U32();
            var dims = new ulong[n];
            for (var d = 0; d < n; d++)
            {
                dims[d] = U64();
            }

            Tensors.Add(new Tensor(name, dims, U32(), U64()));
        }

        HeaderEnd = _pos;
        var alignment = Entries.Where(e => e.Key == "general.alignment").Select(e => (uint)e.Value).DefaultIfEmpty(32u).First();
        DataStart = (_pos + alignment - 1) / alignment * alignment;
    }

    public object this[string key] => Entries.Single(e => e.Key == key).Value;

    public bool Has(string key) => Entries.Any(e => e.Key == key);

    public float[] ReadF32(Tensor t)
    {
        var count = (int)t.Dims.Aggregate(1UL, (a, d) => a * d);
        var start = (int)(DataStart + (long)t.Offset);
        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = t.Type switch
            {
                0 => BinaryPrimitives.ReadSingleLittleEndian(Bytes.AsSpan(start + (4 * i))),
                1 => (float)BinaryPrimitives.ReadHalfLittleEndian(Bytes.AsSpan(start + (2 * i))),
                _ => throw new InvalidOperationException("unexpected tensor type " + t.Type),
            };
        }

        return values;
    }

    private object Value(uint type) => type switch
    {
        0 => Bytes[_pos++],
        1 => (sbyte)Bytes[_pos++],
        4 => U32(),
        5 => (int)U32(),
        6 => BitConverter.Int32BitsToSingle((int)U32()),
        7 => Bytes[_pos++] != 0,
        8 => Str(),
        9 => Array(),
        10 => U64(),
        _ => throw new InvalidOperationException("unexpected value type " + type),
    };

    private object[] Array()
    {
        var type = U32();
        var n = U64();
        var items = new object[n];
        for (ulong i = 0; i < n; i++)
        {
            items[i] = Value(type);
        }

        return items;
    }

    private uint U32()
    {
        var v = BinaryPrimitives.ReadUInt32LittleEndian(Bytes.AsSpan(_pos));
        _pos += 4;
        return v;
    }

    private ulong U64()
    {
        var v = BinaryPrimitives.ReadUInt64LittleEndian(Bytes.AsSpan(_pos));
        _pos += 8;
        return v;
    }

    private string Str()
    {
        var n = (int)U64();
        var s = Encoding.UTF8.GetString(Bytes, _pos, n);
        _pos += n;
        return s;
    }
}
