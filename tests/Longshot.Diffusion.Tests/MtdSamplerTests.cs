using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Schedulers;
using Longshot.Diffusion.Text;
using Longshot.Diffusion.Unet;
using Longshot.Tensors;
using Xunit;

namespace Longshot.Diffusion.Tests;

/// <summary>Sets the process-wide GEMM backend, so it runs alone.</summary>
[CollectionDefinition("Serial", DisableParallelization = true)]
public class SerialCollection;

[Collection("Serial")]
public class MtdSamplerTests
{
    private static MtdPipelineParts Parts()
    {
        var tok = WordTokenizer.Build(new[] { "a red ball", "a blue ball rolls" }, 8);
        return MtdPipelineParts.Create(new MaskUnetConfig { BlockOutChannels = new[] { 32, 32 },
            AttentionLevels = new[] { false, true } },
            new TextEncoderConfig { VocabSize = tok.VocabularySize, MaxLength = 8, Hidden = 32, Heads = 4, Layers = 1,
                Intermediate = 64 }, tok, new SchedulerConfig(), 3);
    }

    private static MtdClip Clip(int start, ulong seed, Tensor? first = null, Tensor? last = null) =>
        new(Enumerable.Range(0, 4).Select(i => start + 5 * i).ToArray(),
            new[] { "a red ball", "a red ball", "a blue ball rolls", "" },
            new[] { first, null, null, last }, new Rng(seed));

    [Theory]
    [InlineData("dpm++")]
    [InlineData("ddpm")]
    public void ResultsAreBitIdenticalWhateverTheBatching(string scheduler)
    {
        // Bit-identical with the built-in kernels; an external BLAS may round differently for different batch sizes.
        using (new BuiltinGemm()) SampleInBatchesAndAlone(scheduler);
    }

    private static void SampleInBatchesAndAlone(string scheduler)
    {
        var sampler = new MtdSampler(Parts(), 4, 8, 8);
        var o = new SamplerOptions(Steps: 4, GuidanceScale: 2f, Scheduler: scheduler);
        var g = Tensor.Randn(new Rng(9), 4, 8, 8);
        var together = sampler.Sample(new[] { Clip(0, 1, g, g), Clip(15, 2) }, o);
        var alone0 = sampler.Sample(new[] { Clip(0, 1, g, g) }, o)[0];
        var alone1 = sampler.Sample(new[] { Clip(15, 2) }, o)[0];
        Assert.Equal(new[] { 4, 4, 8, 8 }, together[0].Shape);
        Assert.Equal(alone0.ToArray(), together[0].ToArray());
        Assert.Equal(alone1.ToArray(), together[1].ToArray());
        // Given frames come back exactly as given.
        Assert.Equal(g.ToArray(), together[0].Narrow(0, 0, 1).ToArray());
        Assert.Equal(g.ToArray(), together[0].Narrow(0, 3, 1).ToArray());
    }

    [Fact]
    public void ClipsOfABatchMustShareTheirSpacing()
    {
        var sampler = new MtdSampler(Parts(), 4, 8, 8);
        var odd = new MtdClip(new[] { 0, 1, 2, 3 }, new[] { "", "", "", "" }, new Tensor?[4], new Rng(1));
        Assert.Throws<LongshotException>(() => sampler.Sample(new[] { Clip(0, 1), odd }, new SamplerOptions(Steps: 2)));
    }

    [Fact]
    public void CorrelatedStartingNoiseKeepsUnitVarianceAndSharesTheAskedPartAcrossFrames()
    {
        int[] shape = { 2, 4, 32, 32 };
        Assert.Equal(Tensor.Randn(new Rng(5), shape).ToArray(),
            MtdSampler.StartingNoise(new Rng(5), shape, 0).ToArray());
        var x = MtdSampler.StartingNoise(new Rng(5), shape, 0.6f);
        float[] a = x.Narrow(0, 0, 1).ToArray(), b = x.Narrow(0, 1, 1).ToArray();
        double va = a.Average(v => (double)v * v), vb = b.Average(v => (double)v * v);
        double cov = a.Zip(b, (p, q) => (double)p * q).Average();
        Assert.InRange(va, 0.93, 1.07);
        Assert.InRange(vb, 0.93, 1.07);
        Assert.InRange(cov / Math.Sqrt(va * vb), 0.55, 0.65);
        Assert.Throws<LongshotException>(() => new SamplerOptions(NoiseCorrelation: 1f).Validate());
        Assert.Throws<LongshotException>(() => new SamplerOptions(NoiseCorrelation: -0.1f).Validate());
        Assert.NotEqual(new SamplerOptions().Identity, new SamplerOptions(NoiseCorrelation: 0.3f).Identity);
    }
}
