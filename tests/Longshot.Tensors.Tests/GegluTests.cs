using Longshot.Tensors;
using Xunit;

namespace Longshot.Tensors.Tests;

/// <summary>The fused GEGLU gating (no graph) against its composition from Narrow, Gelu and Mul.</summary>
public class GegluTests
{
    private static Tensor Composed(Tensor h)
    {
        int n = h.Shape[^1] / 2;
        return h.Narrow(-1, 0, n) * Ops.Gelu(h.Narrow(-1, n, n));
    }

    [Theory]
    [InlineData(32)]   // whole vectors: the same bits
    [InlineData(7)]    // scalar tails
    public void FusedMatchesTheComposition(int n)
    {
        var h = Tensor.Randn(new Rng(3), 5, 9, 2 * n) * 2f;
        var expected = Composed(h).ToArray();
        using var _ = Tensor.NoGrad();
        var y = Ops.Geglu(h);
        Assert.Equal(new[] { 5, 9, n }, y.Shape);
        var got = y.ToArray();
        if (n % 16 == 0) Assert.Equal(expected, got);
        else
            for (int i = 0; i < got.Length; i++)
                Assert.True(Math.Abs(expected[i] - got[i]) <= 1e-6f * Math.Max(1f, Math.Abs(expected[i])),
                    $"element {i}: {got[i]} against {expected[i]}");
    }

    [Fact]
    public void StridedInputIsRead()
    {
        var h = Tensor.Randn(new Rng(4), 6, 4, 32).Permute(1, 0, 2);   // [4, 6, 32], not contiguous
        var expected = Composed(h).ToArray();
        using var _ = Tensor.NoGrad();
        Assert.Equal(expected, Ops.Geglu(h).ToArray());
    }

    [Fact]
    public void GradientsFlowThroughTheComposition()
    {
        var h = Tensor.Randn(new Rng(6), 3, 8).SetRequiresGrad();
        var fused = Ops.Sum(Ops.Geglu(h) * 3f).Backward()[h].ToArray();
        var composed = Ops.Sum(Composed(h) * 3f).Backward()[h].ToArray();
        Assert.Equal(composed, fused);
        Assert.Contains(fused, v => v != 0f);
    }

    [Fact]
    public void OddWidthIsRefused() =>
        Assert.Throws<ArgumentException>(() => Ops.Geglu(Tensor.Zeros(2, 5)));
}
