using Longshot.Tensors.Autograd;
using Longshot.Tensors.IO;
using Longshot.Tensors.Kernels;
using Xunit;

namespace Longshot.Tensors.Tests;

[Collection("Serial")]
public unsafe class MixedPrecisionTests
{
    [Fact]
    public void VectorisedRoundingMatchesTheScalarReference()
    {
        var rng = new Random(5);
        var bits = new uint[100_003];
        for (int i = 0; i < bits.Length; i++) bits[i] = (uint)rng.NextInt64(0, 1L << 32);
        // Exact ties with even and odd kept bits, infinities, NaNs and subnormals.
        uint[] special = { 0x3F808000, 0x3F818000, 0x7F800000, 0xFF800000, 0x7FC00001, 0x7F800001, 0x00008000,
            0x80018000, 0x7F7FFFFF };
        special.CopyTo(bits, 0);
        var f = bits.Select(BitConverter.UInt32BitsToSingle).ToArray();
        var packed = Bf16.FromFloat(f);
        var rounded = (float[])f.Clone();
        fixed (float* p = rounded) Bf16.Round(p, rounded.Length);
        for (int i = 0; i < f.Length; i++)
        {
            ushort want = HalfConvert.ToBFloat16(f[i]);
            Assert.True(want == packed[i], $"element {i} ({bits[i]:X8}): {packed[i]:X4}, expected {want:X4}");
            Assert.Equal(BitConverter.SingleToUInt32Bits(HalfConvert.FromBFloat16(want)),
                BitConverter.SingleToUInt32Bits(rounded[i]));
        }
    }

    /// <summary>A small net with every op kind the scope changes: convolution, linear, matmul, attention.</summary>
    private static Tensor Loss(Tensor x, Tensor conv, Tensor lin, Tensor proj)
    {
        var h = Ops.Silu(Ops.Conv2d(x, conv, null, 1, 1));                  // [4, 8, 16, 16]
        var tokens = Ops.Permute(Ops.Reshape(h, 4, 8, 256), 0, 2, 1);        // [4, 256, 8]
        var q = Ops.Linear(tokens, lin);                                       // [4, 256, 8]
        var a = Ops.ScaledDotProductAttention(Ops.Unsqueeze(q, 1), Ops.Unsqueeze(tokens, 1),
            Ops.Unsqueeze(tokens, 1));                                         // [4, 1, 256, 8]
        var y = Ops.MatMul(Ops.Squeeze(a, 1), proj);                           // [4, 256, 8]
        return Ops.Sum(Ops.Square(y)) / y.Numel;
    }

    private static (Tensor X, Tensor[] W) Net()
    {
        var rng = new Rng(9);
        var w = new[] { Tensor.Randn(rng, 8, 4, 3, 3) * 0.3f, Tensor.Randn(rng, 8, 8) * 0.4f,
            Tensor.Randn(rng, 8, 8) * 0.4f };
        foreach (var t in w) t.SetRequiresGrad();
        return (Tensor.Randn(rng, 4, 4, 16, 16), w);
    }

    [Fact]
    public void GradientsUnderBf16AreWithinBf16ToleranceOfFloat32AndTheMasterWeightsStayFloat32()
    {
        var (x, w) = Net();
        var before = w.Select(t => t.ToArray()).ToArray();
        var loss32 = Loss(x, w[0], w[1], w[2]);
        var g32 = loss32.Backward();
        Tensor loss16;
        GradStore g16;
        using (MixedPrecision.Bf16())
        {
            loss16 = Loss(x, w[0], w[1], w[2]);
            g16 = loss16.Backward();
        }
        Assert.True(Math.Abs(loss16.Item() - loss32.Item()) < 0.02 * Math.Abs(loss32.Item()),
            $"loss {loss16.Item()} vs {loss32.Item()}");
        for (int i = 0; i < w.Length; i++)
        {
            var a = g32[w[i]].ToArray(); var b = g16[w[i]].ToArray();
            double scale = a.Max(Math.Abs), worst = a.Zip(b, (p, q) => Math.Abs(p - q)).Max();
            Assert.True(worst < 0.03 * scale, $"weight {i}: gradient off by {worst} (scale {scale})");
            Assert.True(worst > 0, $"weight {i}: bfloat16 should change the gradient");
            Assert.False(w[i].Buffer.IsPacked);
            Assert.Equal(before[i], w[i].ToArray());
            // Master weights keep their float32 bits (not rounded to bfloat16).
            Assert.Contains(w[i].ToArray(), v => (BitConverter.SingleToUInt32Bits(v) & 0xFFFF) != 0);
        }
    }

    [Fact]
    public void KeptActivationsArePackedAndReadBackAsTheirBf16Rounding()
    {
        var (x, w) = Net();
        using var _ = MixedPrecision.Bf16(window: 2);
        var h = Ops.Silu(Ops.Conv2d(x, w[0], null, 1, 1));
        var view = Ops.Reshape(h, 4, 8, 256);
        var exact = h.ToArray();
        // Three more recorded outputs push h (and its view, the same buffer) out of the window.
        var y = Ops.Sum(Ops.Square(Ops.Exp(view * 0.1f)));
        Assert.True(h.Buffer.IsPacked);
        Assert.Same(h.Buffer, view.Buffer);
        var back = h.ToArray();
        Assert.False(h.Buffer.IsPacked); // read: widened again
        for (int i = 0; i < exact.Length; i++)
            Assert.Equal(HalfConvert.FromBFloat16(HalfConvert.ToBFloat16(exact[i])), back[i]);
        Assert.Equal(exact.Take(8).Select(v => HalfConvert.FromBFloat16(HalfConvert.ToBFloat16(v))),
            view.ToArray().Take(8));
        Assert.False(y.Buffer.IsPacked); // a scalar is never packed
        Assert.False(x.Buffer.IsPacked); // made outside the scope
    }

    [Fact]
    public void CheckpointedGradientsUnderBf16MatchTheUncheckpointedOnes()
    {
        var (x, w) = Net();
        Tensor Block(Tensor[] a) => Ops.Silu(Ops.Conv2d(a[0], w[0], null, 1, 1));
        Tensor Rest(Tensor h) => Ops.Sum(Ops.Square(Ops.Linear(Ops.Permute(Ops.Reshape(h, 4, 8, 256), 0, 2, 1),
            w[1]))) / 1000f;
        GradStore plain, ckpt;
        using (MixedPrecision.Bf16()) plain = Rest(Block(new[] { x })).Backward();
        using (MixedPrecision.Bf16()) ckpt = Rest(Checkpoint.Run(Block, x)).Backward();
        for (int i = 0; i < 2; i++)
            TestUtil.AssertClose(plain[w[i]], ckpt[w[i]], atol: 1e-3f, rtol: 2e-2f, what: $"weight {i}");
    }
}
