using Longshot.Diffusion.Pipelines;
using Longshot.Eval.Features;
using Longshot.Eval.Metrics;
using Longshot.Video.Toonworld;
using Xunit;

namespace Longshot.Eval.Tests;

public class SegmentScoresTests
{
    [Fact]
    public void ARealVideoShowsItsOwnSegmentsAndNotAStoryOfOtherPlaces()
    {
        var fx = FeatureExtractor.Load(Path.Combine(AppContext.BaseDirectory, "models", "toonworld-eval"),
            ShippedExtractor.Sha256);
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
}
