using Longshot.Tensors.Kernels;
using Xunit;

namespace Longshot.Tensors.Tests;

/// <summary>
/// The fused attention kernel (blocked GEMMs with an online softmax, heads or query blocks split over threads) must
/// match softmax(q k^T / sqrt(d) + bias, masked) v written out with plain ops, on one thread and on several, including
/// a fully masked query and keys spanning more than one block.
/// </summary>
[Collection("Serial")]
public class AttentionKernelTests
{
    [Theory]
    [InlineData(8, 8)]      // the UNet's head size
    [InlineData(16, 24)]    // value width differs
    [InlineData(40, 40)]
    public void BothKernelsMatchTheWrittenOutFormula(int d, int dv)
    {
        const int b = 2, h = 3, lq = 20, lk = 300;
        var q = Tensor.Randn(new Rng(1), b, h, lq, d);
        var k = Tensor.Randn(new Rng(2), b, h, lk, d);
        var v = Tensor.Randn(new Rng(3), b, h, lk, dv);
        var bias = Tensor.Randn(new Rng(4), 1, h, lq, lk) * 0.5f;
        var mask = Tensor.Ones(b, 1, lq, lk);
        var md = mask.Span;
        for (int j = 0; j < lk; j += 3) md[j] = 0f;                // query 0 of batch 0 loses every third key
        for (int j = 0; j < lk; j++) md[lk + j] = 0f;              // query 1 of batch 0 sees no key at all
        var logits = Ops.MatMul(q, k.Transpose(2, 3)) * (1f / MathF.Sqrt(d)) + bias + (mask - 1f) * 1e9f;
        var expected = Ops.MatMul(Ops.Softmax(logits, -1), v).ToArray();
        // A query with no key outputs zeros in every head (the written-out formula would average all keys there).
        for (int head = 0; head < h; head++)
            for (int e = 0; e < dv; e++) expected[(head * lq + 1) * dv + e] = 0f;
        int before = Threads.Count;
        try
        {
            foreach (int threads in new[] { 1, 2, 8 })   // 8 > b x h: the GEMMs inside a head are threaded instead
            {
                Threads.Count = threads;
                var got = Ops.ScaledDotProductAttention(q, k, v, mask, bias).ToArray();
                for (int i = 0; i < got.Length; i++) Assert.True(MathF.Abs(got[i] - expected[i]) < 1e-4f,
                    $"{threads} threads, element {i}: {got[i]} vs {expected[i]}");
            }
        }
        finally { Threads.Count = before; }
    }
}
