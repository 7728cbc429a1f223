using Xunit;
using Longshot.Eval.Features;
using Longshot.Eval.Metrics;
using Longshot.Tensors;
using Longshot.Video.Imaging;
using Longshot.Video.Toonworld;

namespace Longshot.Eval.Tests;

/// <summary>Real Toonworld video (never seen in training) scores well; each corruption makes the metrics meant to catch
/// it worse.</summary>
public class MetricSensitivityTests
{
    private static readonly Lazy<VideoEvaluator> Evaluator = new(() =>
        new VideoEvaluator(FeatureExtractor.Load(Path.Combine(AppContext.BaseDirectory, "models", "toonworld-eval"),
            ShippedExtractor.Sha256)));

    /// <summary>An unseen episode (other seed than the training data), 1024 frames.</summary>
    private static readonly Lazy<ScoredVideo> Real = new(() =>
    {
        var frames = new ToonworldEpisode(new ToonworldSettings { Frames = 1024, Seed = 4242 }, 0).RenderRange(0, 1024);
        return new ScoredVideo(frames.Select(f => f.Frame).ToList(), frames.Select(f => f.Caption).ToList(),
            frames.Select(f => f.Annotation.Shot).ToList());
    });

    private static ScoredVideo Every(ScoredVideo v, int phase) =>
        new(v.Frames.Where((_, i) => i % 2 == phase).ToList(), v.Prompts.Where((_, i) => i % 2 == phase).ToList(),
            v.Shots.Where((_, i) => i % 2 == phase).ToList());

    [Fact]
    public void RealVideoScoresNearZeroAgainstItselfAndWellOnStoryAndConsistency()
    {
        var e = Evaluator.Value;
        var self = e.Score(new[] { Real.Value }, new[] { Real.Value });
        Assert.Equal(0, self.AvgFid, 6);
        Assert.Equal(0, self.BlockFvd, 6);
        // Even frames against odd frames of the same story: different frames, same content.
        var halves = e.Score(new[] { Every(Real.Value, 0) }, new[] { Every(Real.Value, 1) });
        var noisy = e.Score(new[] { Corrupt.Noise(Every(Real.Value, 0), 0.15f) }, new[] { Every(Real.Value, 1) });
        Assert.True(noisy.AvgFid > 4 * halves.AvgFid + 1, $"noise: Avg-FID {noisy.AvgFid:F2} vs {halves.AvgFid:F2}");
        Assert.True(self.StoryAccuracy > 0.75, $"story accuracy of real video {self.StoryAccuracy:P1}");
        Assert.True(self.Consistency > 0.85, $"consistency of real video {self.Consistency:P1}");
        Assert.True(self.CutF1 > 0.5, $"cut F1 of real video {self.CutF1:F2}");
    }

    [Fact]
    public void ShuffledFramesKeepAvgFidButWorsenBlockFvdJitterAndCuts()
    {
        var e = Evaluator.Value;
        var real = e.Score(new[] { Real.Value }, new[] { Real.Value });
        var shuffled = e.Score(new[] { Corrupt.Shuffle(Real.Value, 9) }, new[] { Real.Value });
        Assert.Equal(real.AvgFid, shuffled.AvgFid, 3); // the same set of frames
        Assert.True(shuffled.BlockFvd > real.BlockFvd + 1, $"B-FVD {shuffled.BlockFvd:F2} vs {real.BlockFvd:F2}");
        Assert.True(shuffled.Jitter > 3 * real.Jitter, $"jitter {shuffled.Jitter:F4} vs {real.Jitter:F4}");
        Assert.True(shuffled.CutF1 < real.CutF1 - 0.3, $"cut F1 {shuffled.CutF1:F2} vs {real.CutF1:F2}");
    }

    [Fact]
    public void RecolouredCharactersLoseConsistencyAndStoryAccuracy()
    {
        var e = Evaluator.Value;
        var real = e.Score(new[] { Real.Value }, new[] { Real.Value });
        var recoloured = e.Score(new[] { Corrupt.RecolourShirts(Real.Value, fromFrame: 512) }, new[] { Real.Value });
        Assert.True(recoloured.Consistency < real.Consistency - 0.2,
            $"consistency {recoloured.Consistency:P1} vs {real.Consistency:P1}");
        Assert.True(recoloured.StoryAccuracy < real.StoryAccuracy - 0.05,
            $"story accuracy {recoloured.StoryAccuracy:P1} vs {real.StoryAccuracy:P1}");
    }

    [Fact]
    public void StoryAccuracyByLevelTellsWhichLevelLostTheStory()
    {
        var e = Evaluator.Value;
        // Frames 0-511 stand for the coarse level and 512-1023 for the fine one; only the fine level is recoloured.
        var levels = new[] { Enumerable.Range(0, 512).ToList(), Enumerable.Range(512, 512).ToList() };
        var real = e.Score(new[] { Real.Value with { Levels = levels } }, new[] { Real.Value });
        var recoloured = e.Score(new[] { Corrupt.RecolourShirts(Real.Value, fromFrame: 512) with { Levels = levels } },
            new[] { Real.Value });
        Assert.Equal(2, recoloured.StoryByLevel!.Count);
        Assert.Equal(real.StoryByLevel![0], recoloured.StoryByLevel[0], 9);
        Assert.True(recoloured.StoryByLevel[1] < real.StoryByLevel[1] - 0.05,
            $"level 2: {recoloured.StoryByLevel[1]:P1} vs {real.StoryByLevel[1]:P1}");
        Assert.Equal(real.StoryAccuracy, (real.StoryByLevel[0] + real.StoryByLevel[1]) / 2, 9);
        Assert.Null(e.Score(new[] { Real.Value }, new[] { Real.Value }).StoryByLevel);
        var outside = Real.Value with { Levels = new[] { new[] { 0 }, new[] { 1024 } } };
        Assert.ThrowsAny<LongshotException>(() => e.Extract(outside));
    }
}

/// <summary>Corruptions of real video for the metric tests.</summary>
internal static class Corrupt
{
    public static ScoredVideo Noise(ScoredVideo v, float sigma)
    {
        var rng = new Rng(17);
        return v with
        {
            Frames = v.Frames.Select(f =>
            {
                var z = Tensor.Randn(rng, f.Rgb.Length).ToArray();
                var g = f.Clone();
                for (int i = 0; i < g.Rgb.Length; i++) g.Rgb[i] = (byte)Math.Clamp(g.Rgb[i] + 255 * sigma * z[i], 0,
                    255);
                return g;
            }).ToList(),
        };
    }

    /// <summary>Frames in random order; prompts and shots stay where the story puts them.</summary>
    public static ScoredVideo Shuffle(ScoredVideo v, ulong seed)
    {
        var rng = new Rng(seed);
        var order = Enumerable.Range(0, v.Frames.Count).ToArray();
        for (int i = order.Length
            - 1; i > 0; i--) { int j = rng.NextInt(i + 1); (order[i], order[j]) = (order[j], order[i]); }
        return v with { Frames = order.Select(i => v.Frames[i]).ToList() };
    }

    /// <summary>From a frame on, every shirt colour becomes the next palette colour (a character changes clothes
    /// mid-video).</summary>
    public static ScoredVideo RecolourShirts(ScoredVideo v, int fromFrame)
    {
        var shirts = Palette.Shirts.Select(s => s.Rgb).ToArray();
        return v with
        {
            Frames = v.Frames.Select((f, n) =>
            {
                if (n < fromFrame) return f;
                var g = f.Clone();
                for (int p = 0; p < g.Rgb.Length; p += 3)
                {
                    var c = new Rgb(g.Rgb[p], g.Rgb[p + 1], g.Rgb[p + 2]);
                    int k = Array.FindIndex(shirts, s => s.DistanceSquared(c) < 40 * 40);
                    if (k < 0) continue;
                    var to = shirts[(k + 3) % shirts.Length];
                    g.Rgb[p] = to.R; g.Rgb[p + 1] = to.G; g.Rgb[p + 2] = to.B;
                }
                return g;
            }).ToList(),
        };
    }
}
