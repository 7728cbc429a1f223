using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Schedulers;
using Longshot.Tensors;
using Xunit;

namespace Longshot.Diffusion.Tests;

/// <summary>Sets the process-wide GEMM backend, so it runs alone.</summary>
[CollectionDefinition("Serial", DisableParallelization = true)]
public class SerialCollection;

[Collection("Serial")]
public class MtdSamplerTests
{
    private static MtdPipelineParts Parts() => TinyMtd.Create(3);

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
        Assert.ThrowsAny<LongshotException>(() =>
            sampler.Sample(new[] { Clip(0, 1), odd }, new SamplerOptions(Steps: 2)));
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
        Assert.ThrowsAny<LongshotException>(() => new SamplerOptions(NoiseCorrelation: 1f).Validate());
        Assert.ThrowsAny<LongshotException>(() => new SamplerOptions(NoiseCorrelation: -0.1f).Validate());
        Assert.NotEqual(new SamplerOptions().Identity, new SamplerOptions(NoiseCorrelation: 0.3f).Identity);
    }

    [Fact]
    public void FillStartBlendsGivenFramesWithinTheirShotAndSamplesTheLowerPartOfTheSchedule()
    {
        var a = Tensor.Full(1f, 4, 8, 8);
        var b = Tensor.Full(3f, 4, 8, 8);
        var shape = new[] { 4, 4, 8, 8 };
        float[] Starts(string[] prompts) => Enumerable.Range(0, 4).Select(f => MathF.Round(MtdSampler.FillStartLatents(
            new MtdClip(new[] { 10, 11, 14, 15 }, prompts, new Tensor?[] { a, null, null, b }, new Rng(1)), shape)!
            .Narrow(0, f, 1).ToArray()[0], 4)).ToArray();
        Assert.Equal(new[] { 1f, 1.4f, 2.6f, 3f }, Starts(new[] { "x", "x", "x", "x" }));
        // A cut inside the gap: each side copies the given frame of its own shot, never a blend across the cut.
        Assert.Equal(new[] { 1f, 1f, 3f, 3f }, Starts(new[] { "x", "x", "y", "y" }));
        // A shot is a scene (the prompt's first sentence); a new action inside it is no cut.
        Assert.Equal("Wide shot of the beach.", Storyline.SceneOf(" Wide shot of the beach. Pax waves."));
        Assert.Equal(new[] { 1f, 1.4f, 2.6f, 3f }, Starts(new[] { "Beach. Pax sits.", "Beach. Pax sits.",
            "Beach. Pax waves.", "Beach. Kip enters." }));
        // A generated frame with no given frame of its shot, or no given frame at all: from noise.
        Assert.Null(MtdSampler.FillStartLatents(new MtdClip(new[] { 0, 1, 2, 3 }, new[] { "x", "z", "y", "y" },
            new Tensor?[] { a, null, null, b }, new Rng(1)), shape));
        Assert.Null(MtdSampler.FillStartLatents(Clip(0, 1), shape));
        // Frames after the last given one (the autoregressive baseline's units) are not fills.
        Assert.Null(MtdSampler.FillStartLatents(new MtdClip(new[] { 0, 1, 2, 3 }, new[] { "x", "x", "x", "x" },
            new Tensor?[] { a, null, null, null }, new Rng(1)), shape));

        var s = Scheduler.Create("dpm++", new SchedulerConfig());
        s.SetTimesteps(8);
        s.StartAt(0.5);
        Assert.Equal(new[] { 428, 285, 143, 0 }, s.Timesteps);
        s.SetTimesteps(8);
        s.StartAt(0.01);
        Assert.Equal(new[] { 0 }, s.Timesteps);
        Assert.ThrowsAny<LongshotException>(() => new SamplerOptions(FillStart: 0f).Validate());
        Assert.NotEqual(new SamplerOptions().Identity, new SamplerOptions(FillStart: 0.5f).Identity);

        // A unit between equal given frames started low in the schedule stays near them; from pure noise it does not.
        var sampler = new MtdSampler(Parts(), 4, 8, 8);
        var g = Tensor.Randn(new Rng(9), 4, 8, 8);
        MtdClip OneShot() => new(new[] { 0, 5, 10, 15 }, new[] { "a red ball", "a red ball", "a red ball",
            "a red ball" }, new Tensor?[] { g, null, null, g }, new Rng(1));
        double Distance(SamplerOptions o)
        {
            var x = sampler.Sample(new[] { OneShot() }, o)[0];
            var mid = x.Narrow(0, 1, 2).ToArray();
            var given = g.ToArray();
            return Math.Sqrt(mid.Select((v, i) => (double)(v - given[i % given.Length]) * (v - given[i % given.Length]))
                .Average());
        }
        var fromNoise = Distance(new SamplerOptions(Steps: 8, GuidanceScale: 1f));
        var fromBlend = Distance(new SamplerOptions(Steps: 8, GuidanceScale: 1f, FillStart: 0.1f));
        Assert.True(fromBlend < 0.5 * fromNoise, $"{fromBlend} vs {fromNoise}");
        // A batch mixing a fill and a clip across a cut gives each what it gets alone.
        using (new BuiltinGemm())
        {
            var o = new SamplerOptions(Steps: 4, GuidanceScale: 2f, FillStart: 0.3f);
            var both = sampler.Sample(new[] { OneShot(), Clip(20, 2, g, g) }, o);
            Assert.Equal(sampler.Sample(new[] { OneShot() }, o)[0].ToArray(), both[0].ToArray());
            Assert.Equal(sampler.Sample(new[] { Clip(20, 2, g, g) }, o)[0].ToArray(), both[1].ToArray());
        }
    }

    [Fact]
    public void AFillEasesIntoItsGivenFrames()
    {
        var a = Tensor.Randn(new Rng(3), 4, 8, 8);
        var b = Tensor.Randn(new Rng(4), 4, 8, 8);
        MtdClip Fill(string[] prompts) => new(new[] { 0, 1, 2, 3, 4, 5 }, prompts,
            new Tensor?[] { a, null, null, null, null, b }, new Rng(1));
        var oneShot = Enumerable.Repeat("x", 6).ToArray();
        Assert.Equal(new[] { 0f, 0.5f, 1f, 1f, 0.5f, 0f }, MtdSampler.FillEase(Fill(oneShot), 2));
        Assert.Equal(new[] { 0f, 1 / 3f, 2 / 3f, 2 / 3f, 1 / 3f, 0f }, MtdSampler.FillEase(Fill(oneShot), 3));
        // Across a cut each side eases only into the given frame of its own shot.
        Assert.Equal(new[] { 0f, 0.5f, 1f, 1f, 0.5f, 0f },
            MtdSampler.FillEase(Fill(new[] { "x", "x", "x", "y", "y", "y" }), 2));
        Assert.Equal(new[] { 0f, 0.25f, 0.5f, 0.75f, 0.25f, 0f },
            MtdSampler.FillEase(Fill(new[] { "x", "x", "x", "x", "y", "y" }), 4));

        // Sampled: given frames stay exact, the frames next to them keep half of what sampling changed.
        var sampler = new MtdSampler(Parts(), 4, 8, 8);
        var shape = new[] { 6, 4, 8, 8 };
        var start = MtdSampler.FillStartLatents(Fill(oneShot), shape)!;
        var free = new SamplerOptions(Steps: 4, GuidanceScale: 1f, FillStart: 0.3f);
        var plain = sampler.Sample(new[] { Fill(oneShot) }, free)[0];
        var eased = sampler.Sample(new[] { Fill(oneShot) }, free with { FillEase = 2 })[0];
        Assert.Equal(a.ToArray(), eased.Narrow(0, 0, 1).ToArray());
        Assert.Equal(b.ToArray(), eased.Narrow(0, 5, 1).ToArray());
        var expected = (start + (plain - start) * Tensor.FromArray(new[] { 0f, 0.5f, 1f, 1f, 0.5f, 0f }, 6, 1, 1, 1))
            .ToArray();
        var got = eased.ToArray();
        Assert.All(Enumerable.Range(0, got.Length), i => Assert.Equal(expected[i], got[i], 1e-5f));
        Assert.NotEqual(plain.Narrow(0, 1, 1).ToArray(), eased.Narrow(0, 1, 1).ToArray());
        Assert.ThrowsAny<LongshotException>(() => new SamplerOptions(FillEase: 0).Validate());
        Assert.NotEqual(free.Identity, (free with { FillEase = 2 }).Identity);
    }
}
