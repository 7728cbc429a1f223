using Longshot.Tensors.IO;
using Longshot.Tensors.Optim;
using Xunit;

namespace Longshot.Tensors.Tests;

public class OptimizerTests
{
    private static readonly Lazy<Dictionary<string, Tensor>> Golden = new(() =>
        SafeTensors.Load(TestUtil.GoldenPath("ops.safetensors")));

    private static void RunAgainstTorch(string name, Func<IEnumerable<(string, Tensor)>, Optimizer> make)
    {
        var g = Golden.Value;
        var p = g[$"{name}.p0"].Clone().SetRequiresGrad();
        var opt = make(new[] { ("p", p) });
        for (int i = 0; i < 3; i++)
        {
            // A loss whose gradient is exactly the stored one: sum(p * g_i).
            var gi = g[$"{name}.g{i}"];
            var grads = Ops.Sum(p * gi).Backward();
            opt.Step(grads);
        }
        TestUtil.AssertClose(g[$"{name}.p3"], p, 1e-5f, 1e-5f, name);
    }

    [Fact]
    public void AdamWMatchesPyTorch() =>
        RunAgainstTorch("adamw", ps => new AdamW(ps, 0.01f, 0.9f, 0.999f, 1e-8f, 0.1f));

    [Fact]
    public void SgdWithMomentumMatchesPyTorch() => RunAgainstTorch("sgd", ps => new Sgd(ps, 0.05f, 0.9f, 0.01f));

    [Fact]
    public void ClipByGlobalNormScalesToTheLimit()
    {
        var a = Tensor.FromArray(new[] { 1f, 2f }, 2).SetRequiresGrad();
        var b = Tensor.FromArray(new[] { 2f }, 1).SetRequiresGrad();
        // grads: d/da sum(3a) = 3, d/db sum(4b) = 4 -> norm sqrt(9+9+16) = sqrt(34)
        var grads = (Ops.Sum(a * 3f) + Ops.Sum(b * 4f)).Backward();
        double before = GradClip.ClipByGlobalNorm(grads, new[] { a, b }, 1.0);
        Assert.Equal(Math.Sqrt(34), before, 4);
        Assert.Equal(1.0, GradClip.GlobalNorm(grads, new[] { a, b }), 3);
    }

    [Fact]
    public void WarmupCosineRisesThenDecays()
    {
        var s = new WarmupCosine(1e-3f, 10, 110, 1e-5f);
        Assert.Equal(1e-4f, s.At(0), 6);
        Assert.Equal(1e-3f, s.At(9), 6);
        Assert.Equal(1e-3f, s.At(10), 6);
        Assert.Equal((1e-3f + 1e-5f) / 2, s.At(60), 6);
        Assert.Equal(1e-5f, s.At(110), 6);
        Assert.True(s.At(30) > s.At(80));
    }

    [Fact]
    public void EmaMovesTowardsTheWeights()
    {
        var p = Tensor.FromArray(new[] { 0f }, 1).SetRequiresGrad();
        var ema = new Ema(new[] { ("p", p) }, 0.9f);
        p.Span[0] = 1f;
        ema.Update();
        Assert.Equal(0.1f, ema.Weights()["p"].Item(), 6);
        ema.Update();
        Assert.Equal(0.19f, ema.Weights()["p"].Item(), 6);
    }

    [Fact]
    public void NonFiniteGradientsAreNamed()
    {
        var a = Tensor.FromArray(new[] { 0f, 1f }, 2).SetRequiresGrad();
        var grads = Ops.Sum(Ops.Log(a)).Backward(); // d/da log(a) = 1/a -> inf at 0
        Assert.Equal(new[] { "a" }, NumericCheck.NonFiniteGradients(grads, new[] { ("a", a) }));
        Assert.Throws<ArithmeticException>(() => NumericCheck.ThrowIfNotFinite(Tensor.Scalar(float.NaN), 3));
    }
}
