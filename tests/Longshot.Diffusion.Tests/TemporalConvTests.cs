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

    /// <summary>The inference path (one GEMM per frame over the padded video in place) gives the same
    /// numbers.</summary>
    [Theory]
    [InlineData(3, true)]
    [InlineData(5, false)]
    public void WithoutGradientsTheInPlacePathMatchesTheReferenceConv1d(int kernel, bool bias)
    {
        var conv = new Conv1d(VarBuilder.Fresh(new ParameterStore(), 5), 5, 6, kernel, padding: kernel / 2, bias: bias);
        var x = Tensor.Randn(new Rng(2), 3 * 6, 5, 4, 3); // three videos of six frames
        var slow = TemporalOps.OverFrames(x, 6, conv.Forward);
        using var _ = Tensor.NoGrad();
        Close(slow, TemporalOps.ConvOverFrames(x, 6, conv));
    }

    [Fact]
    public void BadShapesAreNamed()
    {
        var w = Tensor.Zeros(6, 5, 3);
        Assert.Contains("6-frame videos",
            Assert.Throws<ArgumentException>(() => Ops.TemporalConv(Tensor.Zeros(8, 5, 2, 2), 6, w)).Message);
        Assert.Contains("input has 4",
            Assert.Throws<ArgumentException>(() => Ops.TemporalConv(Tensor.Zeros(6, 4, 2, 2), 6, w)).Message);
        Assert.Contains("odd",
            Assert.Throws<ArgumentException>(() => Ops.TemporalConv(Tensor.Zeros(6, 5, 2, 2), 6, Tensor.Zeros(6, 5, 2)))
            .Message);
    }

    private static void Close(Tensor a, Tensor b)
    {
        Assert.Equal(a.Shape, b.Shape);
        var x = a.ToArray(); var y = b.ToArray();
        for (int i = 0; i < x.Length; i++) Assert.True(MathF.Abs(x[i] - y[i]) <= 1e-4f * (1 + MathF.Abs(x[i])),
            $"[{i}] {x[i]} vs {y[i]}");
    }
}

public class TemporalConvBetweenTests
{
    [Fact]
    public void AClipBetweenItsNeighboursGetsTheLongVideosOutputBitForBit()
    {
        var rng = new Longshot.Tensors.Rng(8);
        var video = Longshot.Tensors.Tensor.Randn(rng, 12, 8, 3, 5);
        var weight = Longshot.Tensors.Tensor.Randn(rng, 6, 8, 3);
        var bias = Longshot.Tensors.Tensor.Randn(rng, 6);
        using var _ = Longshot.Tensors.Tensor.NoGrad();
        var whole = Longshot.Tensors.Ops.TemporalConv(video, 12, weight, bias).ToArray();
        foreach (var (start, len) in new[] { (0, 4), (4, 5), (9, 3) })
        {
            var clip = video.Narrow(0, start, len).Contiguous();
            var before = start > 0 ? video.Narrow(0, start - 1, 1).Contiguous() : null;
            var after = start + len < 12 ? video.Narrow(0, start + len, 1).Contiguous() : null;
            var got = Longshot.Tensors.Ops.TemporalConvBetween(clip, before, after, weight, bias).ToArray();
            int frame = 6 * 3 * 5;
            Assert.Equal(whole.AsSpan(start * frame, len * frame).ToArray(), got);
        }
    }
}
