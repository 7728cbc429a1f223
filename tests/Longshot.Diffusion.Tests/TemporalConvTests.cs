using Longshot.Diffusion.Layers;
using Longshot.Tensors;
using Longshot.Tensors.Nn;
using Xunit;

namespace Longshot.Diffusion.Tests;

public class TemporalConvTests
{
    /// <summary>The frame-stacking formulation equals the pixels-as-batch Conv1d, forward and backward.</summary>
    [Fact]
    public void ConvOverFramesMatchesTheReferenceConv1d()
    {
        var store = new ParameterStore();
        var conv = new Conv1d(VarBuilder.Fresh(store, 4), 5, 6, 3, padding: 1);
        var x = Tensor.Randn(new Rng(2), 2 * 4, 5, 3, 7).SetRequiresGrad(); // two videos of four frames
        var r = Tensor.Randn(new Rng(3), 2 * 4, 6, 3, 7);
        var fast = TemporalOps.ConvOverFrames(x, 4, conv);
        var slow = TemporalOps.OverFrames(x, 4, conv.Forward);
        Close(slow, fast);
        var gf = Ops.Sum(fast * r).Backward();
        var gs = Ops.Sum(slow * r).Backward();
        Close(gs[x], gf[x]);
        Close(gs[conv.Weight], gf[conv.Weight]);
        Close(gs[conv.Bias!], gf[conv.Bias!]);
    }

    private static void Close(Tensor a, Tensor b)
    {
        Assert.Equal(a.Shape, b.Shape);
        var x = a.ToArray(); var y = b.ToArray();
        for (int i = 0; i < x.Length; i++) Assert.True(MathF.Abs(x[i] - y[i]) <= 1e-4f * (1 + MathF.Abs(x[i])), $"[{i}] {x[i]} vs {y[i]}");
    }
}
