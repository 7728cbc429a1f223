using Xunit;
using Longshot.Eval.Attributes;
using Longshot.Eval.Features;
using Longshot.Eval.Metrics;
using Longshot.Tensors;
using Longshot.Video.Imaging;
using Longshot.Video.Toonworld;

namespace Longshot.Eval.Tests;

public class SignalAndAttributeTests
{
    [Fact]
    public void CutF1CountsMatchesWithinTheToleranceOnce()
    {
        Assert.Equal(1, VideoSignals.CutF1(new[] { 10, 51 }, new[] { 10, 50 }));
        // One hit of two detections and two expected cuts: precision 1/2, recall 1/2.
        Assert.Equal(0.5, VideoSignals.CutF1(new[] { 10, 80 }, new[] { 10, 50 }), 9);
        // Two detections next to one cut match it only once.
        Assert.Equal(2.0 / 3, VideoSignals.CutF1(new[] { 10, 11 }, new[] { 10 }), 9);
        Assert.Equal(1, VideoSignals.CutF1(Array.Empty<int>(), Array.Empty<int>()));
        Assert.Equal(0, VideoSignals.CutF1(new[] { 5 }, Array.Empty<int>()));
    }

    [Fact]
    public void JitterIgnoresTheStorysCutsAndCutsAreDetected()
    {
        Frame Solid(byte v) { var f = new Frame(4, 4); Array.Fill(f.Rgb, v); return f; }
        var frames = new[] { Solid(0), Solid(51), Solid(51), Solid(255) };
        var shots = new[] { 0, 0, 0, 1 };
        Assert.Equal(0.1, VideoSignals.Jitter(frames, shots), 9); // (0.2 + 0) / 2; the cut 51 -> 255 is not counted
        Assert.Equal(new[] { 1, 3 }, VideoSignals.DetectCuts(frames, 0.15).ToArray());
        Assert.Equal(new[] { 3 }, VideoSignals.DetectCuts(frames, 0.5).ToArray());
        Assert.Equal(new[] { 3 }, VideoSignals.ShotStarts(shots).ToArray());
    }

    [Fact]
    public void PromptsAreReadIntoTheAttributesTheyAskFor()
    {
        var p = PromptAttributes.Parse("Close-up of the town at night. Pax, in a blue shirt and a top hat, sits; " +
            "Momo, in an orange shirt, waves.");
        Assert.Equal(("town", "night", "close"), (p.Place, p.Time, p.Framing));
        Assert.Equal(2, p.Characters.Count);
        Assert.Equal(new CharacterLook("Pax", "blue", "top hat"), p.Characters[0]);
        Assert.Equal(new CharacterLook("Momo", "orange", null), p.Characters[1]);
        var free = PromptAttributes.Parse("a cat on a sofa");
        Assert.Null(free.Place);
        Assert.Empty(free.Characters);
    }

    [Fact]
    public void TargetsOfARenderedFrameMatchItsCaption()
    {
        var ep = new ToonworldEpisode(new ToonworldSettings { Frames = 200, Seed = 11 }, 0);
        for (int f = 0; f < 200; f += 37)
        {
            var tf = ep.Render(f);
            var t = FrameAttributes.Targets(tf.Annotation);
            var asked = PromptAttributes.Parse(tf.Caption);
            Assert.Equal(1f, t[FrameAttributes.PlaceAt + Array.IndexOf(FrameAttributes.Places, asked.Place)]);
            Assert.Equal(1f, t[FrameAttributes.TimeAt + Array.IndexOf(FrameAttributes.Times, asked.Time)]);
            Assert.Equal(1f, t[FrameAttributes.FramingAt + Array.IndexOf(FrameAttributes.Framings, asked.Framing)]);
            foreach (var c in asked.Characters)
            {
                Assert.Equal(1f, t[FrameAttributes.ShirtAt + Array.IndexOf(FrameAttributes.Shirts, c.Shirt)]);
                if (c.Accessory != null) Assert.Equal(1f,
                    t[FrameAttributes.AccessoryAt + Array.IndexOf(FrameAttributes.Accessories, c.Accessory)]);
            }
            Assert.Equal(3f, FrameAttributes.ChoiceGroups.Sum(g => t.Skip(g.At).Take(g.Size).Sum()));
        }
    }

    [Fact]
    public void AttributeLossIsCrossEntropyPlusBinaryCrossEntropy()
    {
        // One row, a choice group of 2 and a presence group of 1.
        var logits = Tensor.FromArray(new[] { 1f, 3f, -0.5f }, 1, 3);
        var targets = Tensor.FromArray(new[] { 1f, 0f, 1f }, 1, 3);
        float loss = AttributeLoss.Compute(logits, targets, new[] { (0, 2) }, new[] { (2, 1) }).Item();
        double ce = -(1 - Math.Log(Math.Exp(1) + Math.Exp(3)));
        double bce = -Math.Log(1 / (1 + Math.Exp(0.5)));
        Assert.Equal(ce + bce, loss, 4);
        Assert.Equal(new[] { false, true, false },
            AttributeLoss.Decide(new[] { 1f, 3f, -0.5f }, new[] { (0, 2) }, new[] { (2, 1) }));
    }

    [Fact]
    public void ExtractorSavesAndLoadsAsFolderOrSingleFile()
    {
        var dir = Path.Combine(Path.GetTempPath(), "fx-" + Guid.NewGuid().ToString("N"));
        try
        {
            var cfg = new FeatureExtractorConfig { FrameChannels = new[] { 8, 8, 16 }, ClipChannels = new[] { 8, 16 },
                FrameFeatureDim = 8, ClipFeatureDim = 4, ClipFrames = 4 };
            var fx = FeatureExtractor.Create(cfg, 3);
            fx.Save(dir);
            var frames = Tensor.Randn(new Rng(1), 4, 3, 64, 64);
            using var _ = Tensor.NoGrad();
            var a = fx.Frames(frames).Features.ToArray();
            var b = FeatureExtractor.Load(dir, fx.Sha256).Frames(frames).Features.ToArray();
            var c = FeatureExtractor.Load(Path.Combine(dir, FeatureExtractor.WeightsFile)).Clips(frames).Features;
            Assert.Equal(a, b);
            Assert.Equal(new[] { 1, 4 }, c.Shape);
            var e = Assert.ThrowsAny<LongshotException>(() => FeatureExtractor.Load(dir, new string('0', 64)));
            Assert.Contains("not the pinned extractor", e.Message);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }
}

public class ExtractorLearningTests
{
    [Fact]
    public void BothEncodersFitAFixedBatch()
    {
        var cfg = new FeatureExtractorConfig { FrameChannels = new[] { 8, 8, 16 }, ClipChannels = new[] { 8, 16 },
            FrameFeatureDim = 16, ClipFeatureDim = 16, ClipFrames = 4 };
        var fx = FeatureExtractor.Create(cfg, 3);
        var rng = new Rng(4);
        var frames = Tensor.Randn(rng, 8, 3, 64, 64);
        var frameTargets = Targets(8, FrameAttributes.Count, FrameAttributes.ChoiceGroups,
            FrameAttributes.PresenceGroups);
        var clipTargets = Targets(2, FeatureExtractor.ClipTargets, ExtractorTrainer.ClipChoice,
            ExtractorTrainer.ClipPresence);
        var opt = new Longshot.Tensors.Optim.AdamW(fx.Store.Trainable, 3e-3f);
        float Loss(bool clip, out Tensor t)
        {
            t = clip ? AttributeLoss.Compute(fx.Clips(frames).Logits, clipTargets, ExtractorTrainer.ClipChoice,
                ExtractorTrainer.ClipPresence)
                     : AttributeLoss.Compute(fx.Frames(frames).Logits, frameTargets, FrameAttributes.ChoiceGroups,
                         FrameAttributes.PresenceGroups);
            return t.Item();
        }
        float f0 = Loss(false, out _), c0 = Loss(true, out _);
        for (int i = 0; i < 150; i++)
        {
            Loss(false, out var a); Loss(true, out var b);
            opt.Step((a + b).Backward());
        }
        float f1 = Loss(false, out _), c1 = Loss(true, out _);
        Assert.True(f1 < 0.3f * f0, $"frame loss {f0} -> {f1}");
        Assert.True(c1 < 0.3f * c0, $"clip loss {c0} -> {c1}");
    }

    /// <summary>Valid targets: one choice per choice group, every third presence on.</summary>
    private static Tensor Targets(int rows, int count, (int At, int Size)[] choice, (int At, int Size)[] presence)
    {
        var t = new float[rows * count];
        for (int r = 0; r < rows; r++)
        {
            foreach (var (at, size) in choice) t[r * count + at + (r * 5 + at) % size] = 1;
            foreach (var (at, size) in presence) for (int k = 0; k < size; k++) t[r * count + at + k] = (r
                + k) % 3 == 0 ? 1 : 0;
        }
        return Tensor.FromArray(t, rows, count);
    }
}
