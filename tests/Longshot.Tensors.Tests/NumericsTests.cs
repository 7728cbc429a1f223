using Xunit;

namespace Longshot.Tensors.Tests;

/// <summary>
/// Precision where float32 arithmetic loses it unless the kernel takes care (found against libtorch in float64):
/// sums of nothing, norms of inputs far from zero, tanh near zero, sums over many rows.
/// </summary>
public class NumericsTests
{
    [Fact]
    public void SummingARank0TensorGivesItsValueAndItsGradient()
    {
        Assert.Equal(2f, Ops.Sum(Tensor.Scalar(2f)).Item());
        Assert.Equal(2f, Ops.Mean(Tensor.Scalar(2f)).Item());
        var a = Tensor.FromArray(new float[] { 1, 2, 3 }, 3).SetRequiresGrad();
        var loss = Ops.Sum(Ops.Mean(Ops.MseLoss(a, Tensor.Zeros(3))));
        Assert.Equal(14f / 3, loss.Item(), 5);
        var g = loss.Backward();
        var grad = g[a].ToArray();
        var expected = new[] { 2f / 3, 4f / 3, 2f };
        for (int i = 0; i < 3; i++) Assert.Equal(expected[i], grad[i], 5);
    }

    [Fact]
    public void NormsKeepTheirPrecisionWhenTheMeanDwarfsTheSpread()
    {
        var x = Tensor.Randn(new Rng(3), 2, 8, 6, 6) + 100f;
        var group = Ops.GroupNorm(x, 4, null, null).ToArray();
        var layer = Ops.LayerNorm(x.Reshape(16, 36), null, null).ToArray();
        var v = x.ToArray();
        double worstGroup = 0, worstLayer = 0;
        for (int row = 0; row < 8; row++) // group norm: 2 x 4 groups of 2 channels x 36
            worstGroup = Math.Max(worstGroup, WorstError(v, group, row * 72, 72));
        for (int row = 0; row < 16; row++)
            worstLayer = Math.Max(worstLayer, WorstError(v, layer, row * 36, 36));
        Assert.True(worstGroup < 2e-5, $"group norm: worst error {worstGroup}");
        Assert.True(worstLayer < 2e-5, $"layer norm: worst error {worstLayer}");
    }

    /// <summary>Worst |y - (x - mean) / sqrt(var + eps)| over one normalised slice, the reference in double.</summary>
    private static double WorstError(float[] x, float[] y, int start, int n)
    {
        double m = 0, s = 0;
        for (int i = 0; i < n; i++) m += x[start + i];
        m /= n;
        for (int i = 0; i < n; i++) s += (x[start + i] - m) * (x[start + i] - m);
        double r = 1 / Math.Sqrt(s / n + 1e-5), worst = 0;
        for (int i = 0; i < n; i++) worst = Math.Max(worst, Math.Abs(y[start + i] - (x[start + i] - m) * r));
        return worst;
    }

    [Fact]
    public void TanhKeepsItsRelativePrecisionNearZero()
    {
        var xs = new List<float>();
        for (double e = -8; e <= 1; e += 0.05) { xs.Add((float)Math.Pow(10, e)); xs.Add(-(float)Math.Pow(10, e)); }
        xs.AddRange(new[] { 0f, 0.2499f, 0.25f, 0.2501f, 3f, -9f, 20f });
        var y = Ops.Tanh(Tensor.FromArray(xs.ToArray(), xs.Count)).ToArray();
        for (int i = 0; i < xs.Count; i++)
        {
            double expected = Math.Tanh(xs[i]);
            double rel = expected == 0 ? Math.Abs(y[i]) : Math.Abs((y[i] - expected) / expected);
            Assert.True(rel < 1e-6, $"tanh({xs[i]}) = {y[i]}, expected {expected} (relative error {rel})");
        }
    }

    [Fact]
    public void ASumOverManyRowsKeepsFloatPrecision()
    {
        const int rows = 200_000, cols = 3;
        var rng = new Rng(5);
        var x = Tensor.Randn(rng, rows, cols) + 1f;
        var v = x.ToArray();
        var sums = Ops.Sum(x, 0).ToArray();
        for (int j = 0; j < cols; j++)
        {
            double exact = 0;
            for (int i = 0; i < rows; i++) exact += v[i * cols + j];
            double rel = Math.Abs((sums[j] - exact) / exact);
            Assert.True(rel < 5e-7, $"column {j}: {sums[j]} vs {exact} (relative error {rel})");
        }
    }
}
