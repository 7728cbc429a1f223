using Longshot.Diffusion.Pipelines;
using Longshot.Eval.Features;
using Longshot.Eval.Attributes;
using Longshot.Eval.Metrics;
using Longshot.Video.Store;
using Longshot.Video.Toonworld;
using Xunit;

namespace Longshot.Eval.Tests;

public class SegmentScoresTests
{
    [Fact]
    public void ARealVideoShowsItsOwnSegmentsAndNotAStoryOfOtherPlaces()
    {
        var fx = Extractor();
        var rendered = new ToonworldEpisode(new ToonworldSettings { Frames = 400, Seed = 4243 }, 0).RenderRange(0, 400);
        var frames = rendered.Select(f => f.Frame).ToList();
        var own = SegmentScores.Score(fx, frames, Storyline.FromFramePrompts(rendered.Select(f => f.Caption)
            .ToList()));
        Assert.True(own.Count >= 2, "the episode has several captioned segments");
        Assert.True(own.Average(s => s.Place) > 0.8, SegmentScores.Markdown(own));
        Assert.True(own.Average(s => s.Time) > 0.8, SegmentScores.Markdown(own));
        // One place is decided per frame, so a place seen in most of a segment is the one seen most.
        Assert.All(own.Where(s => s.Place > 0.5), s => Assert.Contains($"the {s.SeenPlace}", s.Prompt));
        // The same frames against a story asking for a place and time they do not show.
        var place = own[0].Prompt.Contains("beach") ? "forest" : "beach";
        var time = own[0].Prompt.Contains("night") ? "noon" : "night";
        var wrong = SegmentScores.Score(fx, frames,
            Storyline.Parse($"0-400: Wide shot of the {place} at {time}.\n", frames: 400));
        Assert.Single(wrong);
        Assert.Equal(0, wrong[0].Start);
        Assert.Equal(400, wrong[0].End);
        Assert.True(wrong[0].Place < 0.5 && wrong[0].Time < 0.5, SegmentScores.Markdown(wrong));
        Assert.Contains(own, s => s.Prompt.Contains($"the {wrong[0].SeenPlace}")); // what the frames do show
        Assert.True(double.IsNaN(wrong[0].Shirts)); // no character asked for
        Assert.True(double.IsNaN(wrong[0].Accessories));
        Assert.False(double.IsNaN(wrong[0].Framing)); // "Wide shot" is asked
        Assert.True(own.Where(s => !double.IsNaN(s.Framing)).Average(s => s.Framing) > 0.6,
            SegmentScores.Markdown(own));
        // Accessories are a few pixels at 64 x 64: the extractor sees them in some real frames, not most.
        Assert.Contains(own, s => s.Accessories > 0.3);
        Assert.Contains("| 0-400 |", SegmentScores.Markdown(wrong));
    }

    [Fact]
    public void TheRealShirtReferenceCountsAnnotatedCharactersAndSitsBesideEachSegment()
    {
        var fx = Extractor();
        InDataset(new ToonworldSettings { Frames = 400, Seed = 4244 }, 3, store =>
        {
            var reference = ShirtReference.Measure(fx, store, every: 4);
            // Every visible character of the sampled frames is counted once, under its frame's framing and shirt.
            int characters = store.Episodes.Sum(e => Enumerable.Range(0, 100).Sum(i =>
                e.Annotation(4 * i)!.Characters.Count(c => c.Visible)));
            Assert.Equal(characters, FrameAttributes.Framings.Sum(f => FrameAttributes.Shirts.Sum(s =>
                reference.Count(f, s))));
            var counted = FrameAttributes.Framings.SelectMany(f => FrameAttributes.Shirts.Select(s => (f, s)))
                .Where(k => reference.Count(k.f, k.s) > 0).ToList();
            Assert.All(counted, k => Assert.InRange(reference.Rate(k.f, k.s), 0, 1));
            // The shipped extractor sees most shirts of real frames (accessories and small figures aside).
            double seen = counted.Sum(k => reference.Rate(k.f, k.s) * reference.Count(k.f, k.s)) / characters;
            Assert.True(seen > 0.6, $"real shirts seen: {seen:P0}");
            Assert.True(double.IsNaN(reference.Rate("wide", "no such colour")));
            var (f0, s0) = counted[0];
            var name = f0 == "close" ? "Close-up" : f0 == "medium" ? "Medium shot" : "Wide shot";
            var asked = PromptAttributes.Parse($"{name} of the beach at noon. Kip, in a {s0} shirt, sits.");
            Assert.Equal(reference.Rate(f0, s0), reference.For(asked));
            Assert.True(double.IsNaN(reference.For(PromptAttributes.Parse("The beach at noon. Kip, in a red shirt."))));
            var frames = store.Episodes.First().ReadFrame(0);
            var scores = SegmentScores.Score(fx, new[] { frames }, Storyline.Parse($"0-1: {name} of the beach at " +
                $"noon. Kip, in a {s0} shirt, sits.\n", frames: 1), reference);
            Assert.Equal(reference.Rate(f0, s0), scores[0].ShirtsReal);
            Assert.Contains("shirts on real frames", SegmentScores.Markdown(scores));
            Assert.DoesNotContain("on real frames", SegmentScores.Markdown(scores.Select(x => x with
                { ShirtsReal = double.NaN }).ToList()));
        });
    }

    [Fact]
    public void TheRoundTripReferenceCountsTheSameCharactersThroughTheVae()
    {
        var fx = Extractor();
        InDataset(new ToonworldSettings { Frames = 200, Seed = 4245 }, 2, store =>
        {
            var (real, roundTrip) = ShirtReference.MeasureRoundTrip(fx, store,
                Diffusion.Vae.AutoencoderKL.Load(Diffusion.ShippedModels.Vae()), every: 100, window: 16);
            // Windows of 16 frames at 0 and 100 of each episode: every visible character counted once in each.
            int characters = store.Episodes.Sum(e => new[] { 0, 100 }.Sum(w => Enumerable.Range(w, 16).Sum(f =>
                e.Annotation(f)!.Characters.Count(c => c.Visible))));
            var keys = FrameAttributes.Framings.SelectMany(f => FrameAttributes.Shirts.Select(s => (f, s))).ToList();
            Assert.Equal(characters, keys.Sum(k => real.Count(k.f, k.s)));
            Assert.All(keys, k => Assert.Equal(real.Count(k.f, k.s), roundTrip.Count(k.f, k.s)));
            double Seen(ShirtReference r) => keys.Where(k => r.Count(k.f, k.s) > 0)
                .Sum(k => r.Rate(k.f, k.s) * r.Count(k.f, k.s)) / characters;
            // The decoded frames are not the real ones (fewer shirts seen), yet the VAE keeps most of them.
            Assert.True(Seen(roundTrip) < Seen(real), $"{Seen(roundTrip):P0} vs {Seen(real):P0}");
            Assert.True(Seen(roundTrip) > 0.4, $"through the VAE: {Seen(roundTrip):P0}");
            var frame = store.Episodes.First().ReadFrame(0);
            var scores = SegmentScores.Score(fx, new[] { frame }, Storyline.Parse("0-1: Close-up of the beach at " +
                "noon. Kip, in a red shirt, sits.\n", frames: 1), real, roundTrip);
            Assert.Contains("shirts through the VAE", SegmentScores.Markdown(scores));
            Assert.ThrowsAny<Tensors.LongshotException>(() => ShirtReference.MeasureRoundTrip(fx, store,
                Diffusion.Vae.AutoencoderKL.Load(Diffusion.ShippedModels.Vae()), every: 8, window: 16));
        });
    }

    private static FeatureExtractor Extractor() =>
        FeatureExtractor.Load(Path.Combine(AppContext.BaseDirectory, "models", "toonworld-eval"),
            ShippedExtractor.Sha256);

    /// <summary>Runs <paramref name="test"/> on a fresh annotated Toonworld dataset, deleted afterwards.</summary>
    private static void InDataset(ToonworldSettings settings, int episodes, Action<DatasetStore> test)
    {
        var dir = Directory.CreateTempSubdirectory("longshot-shirt-reference-").FullName;
        try
        {
            DatasetBuilder.GenerateToonworld(dir, settings, episodes);
            using var store = DatasetStore.Open(dir);
            test(store);
        }
        finally { Directory.Delete(dir, true); }
    }
}
