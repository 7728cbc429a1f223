using Xunit;

namespace Longshot.Tensors.Tests;

public class DropoutAndLossTests
{
    [Fact]
    public void DropoutKeepsTheExpectedFractionAndScalesTheRest()
    {
        var x = Tensor.Ones(100_000).SetRequiresGrad();
        var y = Ops.Dropout(x, 0.25f, new Rng(1));
        var v = y.ToArray();
        double kept = v.Count(a => a != 0) / (double)v.Length;
        Assert.InRange(kept, 0.74, 0.76);
        Assert.All(v, a => Assert.True(a == 0f || MathF.Abs(a - 4f / 3f) < 1e-6f));
        // The gradient flows through kept elements only, with the same scale.
        var g = Ops.Sum(y).Backward()[x].ToArray();
        Assert.Equal(v, g);
    }

    [Fact]
    public void DropoutIsIdentityInEvaluation()
    {
        var x = Tensor.Randn(new Rng(2), 10);
        Assert.Same(x, Ops.Dropout(x, 0.5f, new Rng(1), training: false));
    }

    [Fact]
    public void GaussianKlMatchesTheClosedForm()
    {
        // KL(N(1, e^0.5) || N(0.5, e^-0.2)) = 0.5 * (lv2 - lv1 + (e^lv1 + (m1 - m2)^2) / e^lv2 - 1)
        var m1 = Tensor.Full(1f, 1); var lv1 = Tensor.Full(0.5f, 1);
        var m2 = Tensor.Full(0.5f, 1); var lv2 = Tensor.Full(-0.2f, 1);
        double expect = 0.5 * (-0.2 - 0.5 + (Math.Exp(0.5) + 0.25) / Math.Exp(-0.2) - 1);
        Assert.Equal(expect, Ops.GaussianKl(m1, lv1, m2, lv2).Item(), 5);
        // Against N(0, 1) a standard normal has zero divergence.
        Assert.Equal(0f, Ops.GaussianKl(Tensor.Zeros(4), Tensor.Zeros(4)).Item(), 6);
    }
}
