using Longshot.Diffusion.Schedulers;
using Longshot.Diffusion.Unet;
using Longshot.Tensors;
using Longshot.Tensors.Optim;
using Xunit;

namespace Longshot.Diffusion.Tests;

public class MaskUnetTests
{
    private static readonly MaskUnetConfig Tiny = new() { BlockOutChannels = new[] { 32, 64 },
        AttentionLevels = new[] { false, true }, CrossAttentionDim = 16, Heads = 4 };

    private static MtdInput Input(int videos, int frames, ulong seed, int[]? positions = null)
    {
        var rng = new Rng(seed);
        int n = videos * frames;
        var mask = Tensor.Zeros(n, 1, 8, 8);
        for (int v = 0; v < videos; v++)
        {
            mask.Narrow(0, v * frames, 1).CopyFrom(Tensor.Ones(1, 1, 8, 8));
            mask.Narrow(0, v * frames + frames - 1, 1).CopyFrom(Tensor.Ones(1, 1, 8, 8));
        }
        var timesteps = Enumerable.Range(0, videos).Select(i => 100 + 300 * i).ToArray();
        positions ??= Enumerable.Range(0, frames).Select(i => i * 15).ToArray();
        return new MtdInput(Tensor.Randn(rng, n, 4, 8, 8), timesteps, Tensor.Randn(rng, n, 5, 16),
            Tensor.Randn(rng, n, 4, 8, 8), mask, positions);
    }

    [Fact]
    public void PredictsNoiseOfTheSampleShape()
    {
        var unet = MaskUnet3D.Create(Tiny, 1);
        var x = Input(2, 4, 2);
        Tensor y;
        using (Tensor.NoGrad()) y = unet.Forward(x);
        Assert.Equal(x.Sample.Shape, y.Shape);
        Assert.Contains(unet.Parameters.Named, p => p.Name == "down_blocks.0.resnets.0.conv1_temporal.weight");
        Assert.Contains(unet.Parameters.Named,
            p => p.Name == "up_blocks.0.temporal_attentions.0.relative_position_bias.weight");
        Assert.Contains(unet.Parameters.Named, p => p.Name == "down_blocks.1.injections.0.cond_proj.weight");
    }

    [Fact]
    public void UntrainedInjectionIgnoresTheVisualCondition()
    {
        var unet = MaskUnet3D.Create(Tiny, 3);
        var x = Input(1, 4, 4);
        var other = x with { Condition = Tensor.Randn(new Rng(9), x.Condition.Shape),
            Mask = Tensor.Zeros(x.Mask.Shape) };
        using var _ = Tensor.NoGrad();
        Assert.Equal(unet.Forward(x).ToArray(), unet.Forward(other).ToArray());
    }

    [Fact]
    public void FreshTemporalLayersKeepFramesIndependent()
    {
        var unet = MaskUnet3D.Create(Tiny, 5);
        var x = Input(1, 4, 6);
        var changed = x with { Sample = x.Sample.Clone() };
        changed.Sample.Narrow(0, 3, 1).CopyFrom(Tensor.Randn(new Rng(7), 1, 4, 8, 8));
        using var _ = Tensor.NoGrad();
        int per = 4 * 64;
        var a = unet.Forward(x).ToArray(); var b = unet.Forward(changed).ToArray();
        for (int i = 0; i < 3 * per; i++) Assert.Equal(a[i], b[i], 5);
        Assert.NotEqual(a[(3 * per)..], b[(3 * per)..]);
    }

    [Fact]
    public void InjectionSitesFollowMiAndSi()
    {
        static int Count(MaskUnetConfig c, string part) => MaskUnet3D.Create(c)
            .Parameters.Named.Count(p => p.Name.Contains("injections") && p.Name.StartsWith(part));
        Assert.True(Count(Tiny, "down_blocks.1") > 0 && Count(Tiny, "up_blocks.0") > 0 && Count(Tiny, "mid_block") > 0);
        var noMi = Tiny with { MultiScaleInjection = false };
        Assert.Equal(0, Count(noMi, "down_blocks.1"));
        Assert.Equal(0, Count(noMi, "up_blocks.0")); // up_blocks.0 is the lowest resolution
        Assert.True(Count(noMi, "down_blocks.0") > 0 && Count(noMi, "up_blocks.1") > 0);
        var noSi = Tiny with { SymmetricInjection = false };
        Assert.Equal(0, Count(noSi, "down_blocks"));
        Assert.True(Count(noSi, "up_blocks") > 0);
    }

    [Fact]
    public void RelativeBucketsAreSignedAndLogarithmic()
    {
        Assert.Equal(0, TemporalTransformer.Bucket(0, 32, 4096));
        Assert.Equal(3, TemporalTransformer.Bucket(3, 32, 4096));
        Assert.Equal(16 + 3, TemporalTransformer.Bucket(-3, 32, 4096));
        Assert.True(TemporalTransformer.Bucket(225, 32, 4096) > TemporalTransformer.Bucket(15, 32, 4096));
        Assert.Equal(15, TemporalTransformer.Bucket(100_000, 32, 4096));
        for (int d = 1; d < 5000; d++)
            Assert.True(TemporalTransformer.Bucket(d, 32, 4096) >= TemporalTransformer.Bucket(d - 1, 32, 4096));
    }

    [Fact]
    public void ATinyModelOverfitsATinyClip()
    {
        var unet = MaskUnet3D.Create(Tiny, 11);
        var sched = new NoiseSchedule(new SchedulerConfig());
        var x0 = Tensor.Randn(new Rng(12), 4, 4, 8, 8) * 0.5f;
        var baseInput = Input(1, 4, 13);
        var noises = Enumerable.Range(0, 3).Select(i => Tensor.Randn(new Rng(20 + (ulong)i), 4, 4, 8, 8)).ToArray();
        int[] ts = { 150, 450, 750 };
        var opt = new AdamW(unet.Parameters.Trainable, 2e-3f, weightDecay: 0f);
        float first = 0, last = 0;
        for (int step = 0; step < 90; step++)
        {
            int k = step % 3;
            var xt = sched.AddNoise(x0, noises[k], Enumerable.Repeat(ts[k], 4).ToArray());
            var loss = Ops.MseLoss(unet.Forward(baseInput with { Sample = xt, Timesteps = new[] { ts[k] } }),
                noises[k]);
            if (step < 3) first += loss.Item() / 3;
            if (step >= 87) last += loss.Item() / 3;
            opt.Step(loss.Backward());
        }
        Assert.True(last < first * 0.3f, $"loss went from {first} to {last}");
    }
}
