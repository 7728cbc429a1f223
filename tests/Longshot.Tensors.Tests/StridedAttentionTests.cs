using Longshot.Tensors.Kernels;
using Xunit;

namespace Longshot.Tensors.Tests;

/// <summary>Without a graph, attention reads heads split from [B, L, H * D] projections where they lie and writes its
/// output with the heads merged: the same bits as the recorded path, which copies them out first.</summary>
[Collection("Serial")]
public class StridedAttentionTests
{
    private static Tensor Heads(Tensor t, int heads) =>
        t.Reshape(t.Shape[0], t.Shape[1], heads, t.Shape[2] / heads).Permute(0, 2, 1, 3);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(8)]   // more threads than heads: the GEMMs inside a head are threaded
    public void SplitHeadsGiveTheBitsOfContiguousOnes(int threads)
    {
        const int b = 2, h = 3, d = 8, lq = 140, lk = 300;
        var rng = new Rng(11);
        var q = Tensor.Randn(rng, b, lq, h * d);
        var k = Tensor.Randn(rng, b, lk, h * d);
        var v = Tensor.Randn(rng, b, lk, h * d);
        var bias = Tensor.Randn(rng, 1, h, lq, lk) * 0.5f;
        var mask = Tensor.Ones(b, 1, lq, lk);
        for (int j = 0; j < lk; j += 3) mask.Span[j] = 0f;
        int before = Threads.Count;
        try
        {
            Threads.Count = threads;
            // Recorded: a leaf needing a gradient makes the op copy its inputs and write [B, H, Lq, D].
            var recorded = Ops.ScaledDotProductAttention(Heads(q, h), Heads(k, h), Heads(v.SetRequiresGrad(), h),
                mask, bias);
            var expected = recorded.Permute(0, 2, 1, 3).Reshape(b, lq, h * d).ToArray();
            using var _ = Tensor.NoGrad();
            var o = Ops.ScaledDotProductAttention(Heads(q, h), Heads(k, h), Heads(v, h), mask, bias);
            Assert.Equal(new[] { b, h, lq, d }, o.Shape);
            var merged = o.Permute(0, 2, 1, 3);
            Assert.True(merged.IsContiguous, "merging the heads back is a view");
            Assert.Equal(expected, merged.Reshape(b, lq, h * d).ToArray());
        }
        finally { Threads.Count = before; }
    }

    [Fact]
    public void HeadsWithoutUnitStrideAreCopied()
    {
        var q = Tensor.Randn(new Rng(12), 1, 2, 8, 5);
        var k = Tensor.Randn(new Rng(13), 1, 2, 5, 7).Transpose(2, 3);   // [1, 2, 7, 5], strided along D
        var v = Tensor.Randn(new Rng(14), 1, 2, 7, 5);
        var expected = Ops.ScaledDotProductAttention(q, k.Contiguous(), v.SetRequiresGrad()).ToArray();
        using var _ = Tensor.NoGrad();
        Assert.Equal(expected, Ops.ScaledDotProductAttention(q, k, v).ToArray());
    }
}
