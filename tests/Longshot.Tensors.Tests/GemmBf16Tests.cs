using Longshot.Tensors.IO;
using Longshot.Tensors.Kernels;
using Xunit;

namespace Longshot.Tensors.Tests;

[Collection("Serial")]
public unsafe class GemmBf16Tests
{
    [Fact]
    public void WideningMatchesTheScalarReferenceForEveryBitPattern()
    {
        var all = Enumerable.Range(0, 65536).Select(i => (ushort)i).ToArray();
        var wide = new float[all.Length];
        fixed (ushort* s = all) fixed (float* d = wide) Bf16.ToFloat(s, d, all.Length);
        for (int i = 0; i < all.Length; i++)
            Assert.Equal(BitConverter.SingleToUInt32Bits(HalfConvert.FromBFloat16(all[i])),
                BitConverter.SingleToUInt32Bits(wide[i]));
        // Every bfloat16 survives the round trip; NaNs stay NaN (quieted).
        var back = Bf16.FromFloat(wide);
        for (int i = 0; i < all.Length; i++)
            if (float.IsNaN(wide[i])) Assert.True(float.IsNaN(HalfConvert.FromBFloat16(back[i])));
            else Assert.Equal(all[i], back[i]);
    }

    [Theory]
    [InlineData(7, 33, 5, false, false)]
    [InlineData(70, 40, 600, false, false)]
    [InlineData(70, 40, 600, true, false)]
    [InlineData(33, 70, 513, false, true)]
    [InlineData(33, 70, 513, true, true)]
    public void Bf16GemmIsTheFloatGemmOfTheWidenedMatricesAndCloseToFloat(int m, int n, int k, bool ta, bool tb)
    {
        var rng = new Rng(3);
        var a = Tensor.Randn(rng, m * k).ToArray();
        var b = Tensor.Randn(rng, k * n).ToArray();
        var c0 = Tensor.Randn(rng, m * n).ToArray();
        int lda = ta ? m : k, ldb = tb ? k : n;
        ushort[] a16 = Bf16.FromFloat(a), b16 = Bf16.FromFloat(b);
        float[] aw = a16.Select(HalfConvert.FromBFloat16).ToArray();
        float[] bw = b16.Select(HalfConvert.FromBFloat16).ToArray();
        var got = (float[])c0.Clone();
        var want = (float[])c0.Clone();
        var full = (float[])c0.Clone();
        fixed (ushort* pa = a16) fixed (ushort* pb = b16) fixed (float* pc = got)
            GemmBf16.Sgemm(ta, tb, m, n, k, 0.5f, pa, lda, pb, ldb, 0.25f, pc, n);
        fixed (float* pa = aw) fixed (float* pb = bw) fixed (float* pc = want)
            GemmBuiltin.Sgemm(ta, tb, m, n, k, 0.5f, pa, lda, pb, ldb, 0.25f, pc, n, Threads.Count);
        fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = full)
            GemmBuiltin.Sgemm(ta, tb, m, n, k, 0.5f, pa, lda, pb, ldb, 0.25f, pc, n, Threads.Count);
        Assert.Equal(want, got);
        // bfloat16 keeps 8 bits of mantissa: each product is off by about 2^-8 relative, and the errors average out
        // over k terms.
        double scale = Math.Sqrt(k) * 0.5;
        double worst = got.Zip(full, (x, y) => Math.Abs(x - y)).Max();
        Assert.True(worst < 0.02 * scale, $"max difference {worst} against float32 (scale {scale})");
        Assert.True(worst > 0, "bfloat16 inputs should round");
    }
}
