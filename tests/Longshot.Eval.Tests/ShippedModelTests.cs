using Longshot.Diffusion;
using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Schemes;
using Longshot.Diffusion.Vae;
using Longshot.Eval.Attributes;
using Longshot.Eval.Features;
using Longshot.Eval.Metrics;
using Longshot.Video.Imaging;
using Xunit;

namespace Longshot.Eval.Tests;

/// <summary>The shipped checkpoints (models/) load and do what the demo relies on.</summary>
public class ShippedModelTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public void TheDemoStorylineCoversTheDemoAndNamesPlacesTimesAndCharacters()
    {
        var story = Storyline.Load(ShippedModels.DemoStory(), 24, 1024);
        Assert.Equal(1024, story.Frames);
        Assert.True(story.Segments.Count >= 8);
        Assert.All(story.Segments, s =>
        {
            var p = PromptAttributes.Parse(s.Prompt);
            Assert.NotNull(p.Place); Assert.NotNull(p.Time); Assert.NotNull(p.Framing);
            Assert.NotEmpty(p.Characters);
        });
    }

    [Fact]
    public void ShippedModelsSampleLatentsOnTheScaleTheyWereTrainedOn()
    {
        // The first shipped models (trained on latents of std 0.37) blew up to a standard deviation of 9 when sampled.
        var vae = AutoencoderKL.Load(ShippedModels.Vae());
        var pipe = new LongVideoPipeline(MtdPipelineParts.Load(ShippedModels.Global()),
            MtdPipelineParts.Load(ShippedModels.Local()), vae);
        var story = Storyline.Parse("0-20: Wide shot of the beach at noon. Momo, in a yellow shirt and a top hat, " +
            "sits.\n");
        var latents = pipe.GenerateLatents(new GenerationRequest(story, 20)
        {
            Scheme = new DiffusionOverDiffusion(), Seed = 3,
        });
        Assert.All(Enumerable.Range(0, 20), f => Assert.True(latents.ContainsKey(f)));
        var all = Enumerable.Range(0, 20).SelectMany(f => latents[f].ToArray()).ToArray();
        double mean = all.Average(), std = Math.Sqrt(all.Select(x => (x - mean) * (x - mean)).Average());
        Assert.All(all, x => Assert.True(float.IsFinite(x)));
        Assert.InRange(std, 0.3, 2.0); // training latents: std about 1
    }

    [Theory]
    [InlineData("beach", "noon", "Wide shot of the beach at noon. Momo, in a yellow shirt and a top hat, sits.")]
    [InlineData("forest", "night", "Close-up in the forest at night. Bo, in a red shirt, waves.")]
    public void ShippedModelsDrawKeyframesOfThePlaceAndTimeAsked(string place, string time, string prompt)
    {
        var vae = AutoencoderKL.Load(ShippedModels.Vae());
        var pipe = new LongVideoPipeline(MtdPipelineParts.Load(ShippedModels.Global()),
            MtdPipelineParts.Load(ShippedModels.Local()), vae);
        var fx = FeatureExtractor.Load(ShippedExtractor.Folder(), ShippedExtractor.Sha256);
        var story = Storyline.Parse($"0-16: {prompt}\n");
        var request = new GenerationRequest(story, 16) { Scheme = new DiffusionOverDiffusion(), Seed = 3 };
        var frames = pipe.Decode(pipe.GenerateLatents(request), 16)
            .Select(Frame.FromTensor).ToList();
        Assert.Equal(16, frames.Count);
        var features = new VideoEvaluator(fx)
            .Extract(new ScoredVideo(frames, Enumerable.Repeat(prompt, 16).ToList(), Enumerable.Repeat(0, 16)
            .ToList()));
        // Place and time are most of what a frame shows; a model that ignored its prompt would hit them 1 time in 6 and
        // 1 in 4.
        var decided = features.FrameLogits.Select(l =>
            AttributeLoss.Decide(l, FrameAttributes.ChoiceGroups, FrameAttributes.PresenceGroups)).ToList();
        int places = decided.Count(d => d[FrameAttributes.PlaceAt + Array.IndexOf(FrameAttributes.Places, place)]);
        int times = decided.Count(d => d[FrameAttributes.TimeAt + Array.IndexOf(FrameAttributes.Times, time)]);
        Assert.True(places >= 12, $"{places}/16 frames show the {place}");
        Assert.True(times >= 12, $"{times}/16 frames show {time}");
    }

    [Fact]
    public void HeldGivenFramesJoinTheirNeighboursBetterThanDriftingOnes()
    {
        // The probe of docs/performance.md ("Given frames held"): 4 level-2 gaps of the demo storyline, sampled from
        // noise as that probe was.
        var fromNoise = ShippedModels.Sampler with { FillStart = 1 };
        var (heldSeam, heldNeighbour) = SeamProbe.Measure(holdGivenFrames: true, units: 4, fromNoise);
        var (driftSeam, _) = SeamProbe.Measure(holdGivenFrames: false, units: 4, fromNoise);
        Assert.True(heldSeam < driftSeam, $"held seam {heldSeam:F3}, drifting {driftSeam:F3}");
        Assert.True(heldSeam < 1.25 * heldNeighbour, $"held seam {heldSeam:F3} against neighbours {heldNeighbour:F3}");
        // Fills started from their given frames (the shipped sampling): seams and neighbours both far smaller.
        var (fillSeam, fillNeighbour) = SeamProbe.Measure(holdGivenFrames: true, units: 4);
        output.WriteLine($"from noise: seam {heldSeam:F4}, neighbours {heldNeighbour:F4}; fill start " +
            $"{ShippedModels.Sampler.FillStart}: seam {fillSeam:F4}, neighbours {fillNeighbour:F4}");
        Assert.True(fillSeam < 0.6 * heldSeam, $"fill seam {fillSeam:F3} against {heldSeam:F3} from noise");
        Assert.True(fillNeighbour < 0.5 * heldNeighbour, $"fill neighbours {fillNeighbour:F3} against " +
            $"{heldNeighbour:F3}");
        // The shipped fills ease into their given frames: the seam is no larger than a step between generated
        // neighbours, where without easing it is larger.
        var (abruptSeam, abruptNeighbour) = SeamProbe.Measure(holdGivenFrames: true, units: 4,
            ShippedModels.Sampler with { FillEase = 1 });
        output.WriteLine($"without easing: seam {abruptSeam:F4}, neighbours {abruptNeighbour:F4}");
        Assert.True(fillSeam <= fillNeighbour, $"fill seam {fillSeam:F3} against neighbours {fillNeighbour:F3}");
        Assert.True(abruptSeam > abruptNeighbour, $"seam without easing {abruptSeam:F3} against neighbours " +
            $"{abruptNeighbour:F3}");
    }
}
