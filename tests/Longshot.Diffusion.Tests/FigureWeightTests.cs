using Longshot.Diffusion.Training;
using Longshot.Tensors;
using Longshot.Video.Toonworld;
using Xunit;

namespace Longshot.Diffusion.Tests;

public class FigureWeightTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("longshot-figures-").FullName;
    public void Dispose() => Directory.Delete(_dir, true);
    private string P(string n) => Path.Combine(_dir, n);

    private static readonly KeyframeStoreSettings Tiny = new()
    {
        Stories = 4, UnitsPerStory = 2, Length = 4, Frames = 40, Width = 16, Height = 16, ShardSize = 2, Seed = 7,
    };

    private static CharacterAnnotation Figure(int[] box, bool visible) =>
        new(0, "Tika", box, "walk", "pink", "none", "round", visible);

    [Fact]
    public void AMapWeighsTheLatentCellsAVisibleCharacterTouches()
    {
        // 64 x 64 pixels over 16 x 16 cells: a cell is 4 x 4 pixels.
        var frame = new FrameAnnotation(0, 0, 0, "meadow", "noon", "wide", new[]
        {
            Figure(new[] { 6, 20, 9, 28 }, visible: true), // x 6..8 touches cells 1 and 2; y 20..27 cells 5 and 6
            Figure(new[] { 40, 40, 48, 48 }, visible: false),
        });
        var map = FigureWeights.Map(frame, 64, 64, 16, 16, weight: 3);
        for (int y = 0; y < 16; y++)
            for (int x = 0; x < 16; x++)
                Assert.Equal(x is 1 or 2 && y is 5 or 6 ? 4f : 1f, map[y * 16 + x]);
        // A given frame weighs nothing anywhere; a generated one keeps its map.
        var batch = FigureWeights.Batch(new[] { frame, frame }, new[] { 0f, 1f }, 64, 64, 16, 16, 3).ToArray();
        Assert.All(batch[..256], v => Assert.Equal(0f, v));
        Assert.Equal(map, batch[256..]);
    }

    [Fact]
    public void AKeyframeStoreKnowsWhereItsUnitsCharactersStand()
    {
        var vae = TinyTraining.Options(_dir, "global", "unused", 0).Vae;
        var store = KeyframeStore.Build(P("kf"), Tiny, vae);
        for (int slot = 0; slot < 2; slot++)
        {
            var (story, frames) = store.Source(1, slot, 1);
            var annotations = store.Annotations(1, slot, 1);
            var script = EpisodeScript.Create(Tiny.Toonworld, story);
            // The rendered ground truth is the one the stored captions were written from.
            Assert.Equal(store.UnitCaptions(1, slot, 1).ToArray(),
                annotations.Select(a => Captioner.Caption(script, a)).ToArray());
            Assert.Equal(frames, annotations.Select(a => a.Frame).ToArray());
        }
    }

    [Fact]
    public void TheWeightedLossOfABatchIsTheSumOfItsRanksLosses()
    {
        // Ranks normalise by the whole batch's weights, so data parallelism still adds up to one process's loss.
        var o = TinyTraining.Options(_dir, "global", "g", 0);
        var parts = MtdTrainer.Train(o);
        var store = KeyframeStore.Build(P("kf"), Tiny, o.Vae);
        var source = new KeyframeUnits(store);
        var weighted = o with { Keyframes = P("kf"), Data = null, FigureWeight = 3, PromptDropout = 0 };
        using var _ = Tensor.NoGrad();
        float Loss(MtdTrainOptions x, int ranks, int rank) =>
            MtdTrainer.StepLoss(x, parts, source, parts.Schedule, 1, new Rng(5), ranks, rank).Item();
        float whole = Loss(weighted with { Batch = 2 }, 1, 0);
        float split = Loss(weighted, 2, 0) + Loss(weighted, 2, 1);
        Assert.Equal(whole, split, 1e-5f * whole);
        // The same draws without the weights give another loss: the figures' cells count differently.
        float plain = Loss(weighted with { Batch = 2, FigureWeight = 0 }, 1, 0);
        Assert.True(MathF.Abs(plain - whole) > 1e-4f * whole, $"weighted {whole} vs plain {plain}");
    }

    [Fact]
    public void ARunKeepsItsFigureWeight()
    {
        var o = TinyTraining.Options(_dir, "global", "g", 1) with { FigureWeight = 2 };
        MtdTrainer.Train(o);
        var e = Assert.ThrowsAny<LongshotException>(() => MtdTrainer.Train(o with { Steps = 2, FigureWeight = 0 }));
        Assert.Contains("figure-weight 2", e.Message);
        MtdTrainer.Train(o with { Steps = 2 });
        e = Assert.ThrowsAny<LongshotException>(() => MtdTrainer.Train(o with { Out = P("h"), FigureWeight = -1 }));
        Assert.Equal(nameof(MtdTrainOptions.FigureWeight), Assert.IsType<SettingException>(e).Setting);
    }
}
