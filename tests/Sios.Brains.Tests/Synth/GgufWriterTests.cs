using Sios.Brains.Synth;
using Sios.Verify;

namespace Sios.Brains.Tests.Synth;

public class GgufWriterTests
{
    private static byte[] Write(GgufWriter w)
    {
        using var ms = new MemoryStream();
        w.WriteTo(ms);
        return ms.ToArray();
    }

    [Fact]
    public void Header_metadata_and_tensor_table_read_back_independently()
    {
        var w = new GgufWriter()
            .AddString("general.architecture", "llama")
            .AddUInt32("a.u32", 7)
            .AddInt32("a.i32", -3)
            .AddFloat32("a.f32", 1.5f)
            .AddBool("a.bool", true)
            .AddUInt64("a.u64", ulong.MaxValue)
            .AddUInt8("a.u8", 200)
            .AddStringArray("a.strings", ["x", "", "héllo"])
            .AddInt32Array("a.ints", [1, -2, 3])
            .AddFloat32Array("a.floats", [0.25f])
            .AddUInt32Array("a.uints", [9u]);
        w.AddTensor("t.f32", GgufTensorType.F32, [3, 2], [1f, 2f, 3f, 4f, 5f, 6f]);
        w.AddTensor("t.f16", GgufTensorType.F16, [5], [0.5f, -1f, 2f, 65504f, 0f]);
        w.AddTensor("t.one", GgufTensorType.F32, [1], [42f]);

        var r = new TestGgufReader(Write(w));

        Assert.Equal(3u, r.Version);
        Assert.Equal(11, r.Entries.Count);
        Assert.Equal("llama", r["general.architecture"]);
        Assert.Equal(7u, r["a.u32"]);
        Assert.Equal(-3, r["a.i32"]);
        Assert.Equal(1.5f, r["a.f32"]);
        Assert.Equal(true, r["a.bool"]);
        Assert.Equal(ulong.MaxValue, r["a.u64"]);
        Assert.Equal((byte)200, r["a.u8"]);
        Assert.Equal(new object[] { "x", "", "héllo" }, (object[])r["a.strings"]);
        Assert.Equal(new object[] { 1, -2, 3 }, (object[])r["a.ints"]);
        Assert.Equal(new object[] { 0.25f }, (object[])r["a.floats"]);
        Assert.Equal(new object[] { 9u }, (object[])r["a.uints"]);
        var types = r.Entries.ToDictionary(e => e.Key, e => e.Type);
        Assert.Equal(8u, types["general.architecture"]);
        Assert.Equal(4u, types["a.u32"]);
        Assert.Equal(5u, types["a.i32"]);
        Assert.Equal(6u, types["a.f32"]);
        Assert.Equal(7u, types["a.bool"]);
        Assert.Equal(10u, types["a.u64"]);
        Assert.Equal(0u, types["a.u8"]);
        Assert.Equal(9u, types["a.strings"]);

        Assert.Equal(["t.f32", "t.f16", "t.one"], r.Tensors.Select(t => t.Name));
        Assert.Equal([3UL, 2UL], r.Tensors[0].Dims);
        Assert.Equal(0u, r.Tensors[0].Type);
        Assert.Equal(1u, r.Tensors[1].Type);
        Assert.Equal(0UL, r.Tensors[0].Offset);
        Assert.All(r.Tensors, t => Assert.Equal(0UL, t.Offset % 32));
        Assert.Equal(32UL, r.Tensors[1].Offset);
        Assert.Equal(64UL, r.Tensors[2].Offset);
        Assert.Equal(0, r.DataStart % 32);
        Assert.All(r.Bytes[(int)r.HeaderEnd..(int)r.DataStart], b => Assert.Equal(0, b));
        Assert.Equal(r.DataStart + 96, r.Bytes.Length);

        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], r.ReadF32(r.Tensors[0]));
        Assert.Equal([0.5f, -1f, 2f, 65504f, 0f], r.ReadF32(r.Tensors[1]));
        Assert.Equal([42f], r.ReadF32(r.Tensors[2]));
    }

    [Fact]
    public void Non_default_alignment_is_recorded_and_honoured()
    {
        var w = new GgufWriter(64);
        w.AddTensor("a", GgufTensorType.F32, [3], [1f, 2f, 3f]);
        w.AddTensor("b", GgufTensorType.F32, [1], [4f]);
        var r = new TestGgufReader(Write(w));

        Assert.Equal(64u, r["general.alignment"]);
        Assert.Equal(0, r.DataStart % 64);
        Assert.Equal(64UL, r.Tensors[1].Offset);
        Assert.Equal([4f], r.ReadF32(r.Tensors[1]));
    }

    [Fact]
    public void Production_header_reader_agrees_with_the_writer()
    {
        var w = new GgufWriter().AddString("k", "v").AddStringArray("list", ["a", "b"]).AddUInt32("n", 5);
        w.AddTensor("m", GgufTensorType.F16, [4, 2], new float[8]);
        using var ms = new MemoryStream(Write(w));

        var h = GgufHeader.Read(ms, "mem");

        Assert.Equal(3u, h.Version);
        Assert.Equal("v", h.GetString("k"));
        Assert.Equal(["a", "b"], (string[])h.Metadata["list"]);
        Assert.Equal(5UL, h.GetUnsigned("n"));
        var t = Assert.Single(h.Tensors);
        Assert.Equal([4L, 2L], t.Shape);
        Assert.Equal(8, t.ElementCount);
        Assert.Equal(0, h.DataOffset % 32);
    }

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { (byte)'G', (byte)'G', (byte)'U', (byte)'F' })]
    [InlineData(new byte[] { 0x7F, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0x3E, 0, 1, 0, 0, 0, 0, 0, 0, 0 })]
    public void Non_gguf_input_is_a_format_violation(byte[] bytes)
    {
        using var ms = new MemoryStream(bytes);
        Assert.Throws<FormatViolationException>(() => GgufHeader.Read(ms, "bad"));
    }

    [Fact]
    public void Truncated_or_corrupted_files_are_format_violations()
    {
        var w = new GgufWriter().AddStringArray("list", ["abc", "def"]);
        w.AddTensor("m", GgufTensorType.F32, [16], new float[16]);
        var bytes = Write(w);

        for (var cut = 0; cut < bytes.Length - 1; cut += 7)
        {
            using var ms = new MemoryStream(bytes[..cut]);
            Assert.Throws<FormatViolationException>(() => GgufHeader.Read(ms, "cut"));
        }

        var wrongVersion = (byte[])bytes.Clone();
        wrongVersion[4] = 9;
        Assert.Throws<FormatViolationException>(() => GgufHeader.Read(new MemoryStream(wrongVersion), "v9"));

        var hugeString = (byte[])bytes.Clone();
        hugeString[24 + 8 + 4 + 4 + 8 + 7] = 0x7F;
        Assert.Throws<FormatViolationException>(() => GgufHeader.Read(new MemoryStream(hugeString), "huge"));
    }

    [Fact]
    public void Misuse_is_rejected_with_argument_errors()
    {
        var w = new GgufWriter().AddUInt32("dup", 1);
        Assert.Throws<ArgumentException>(() => w.AddUInt32("dup", 2));
        w.AddTensor("t", GgufTensorType.F32, [2], [1f, 2f]);
        Assert.Throws<ArgumentException>(() => w.AddTensor("t", GgufTensorType.F32, [2], [1f, 2f]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("z", GgufTensorType.F32, [0], []));
        Assert.Throws<ArgumentException>(() => w.AddTensor("five", GgufTensorType.F32, [1, 1, 1, 1, 1], [1f]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GgufWriter(48));

        var wrongCount = new GgufWriter();
        wrongCount.AddTensor("t", GgufTensorType.F32, [3], [1f]);
        Assert.Throws<InvalidOperationException>(() => Write(wrongCount));
    }
}
