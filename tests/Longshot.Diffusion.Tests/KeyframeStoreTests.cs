using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Training;
using Longshot.Diffusion.Vae;
using Longshot.Tensors;
using Longshot.Video.Toonworld;
using Xunit;

namespace Longshot.Diffusion.Tests;

public class KeyframeStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("longshot-keyframes-").FullName;
    public void Dispose() => Directory.Delete(_dir, true);
    private string P(string n) => Path.Combine(_dir, n);

    private static readonly KeyframeStoreSettings Tiny = new()
    {
        Stories = 5, UnitsPerStory = 2, Length = 4, Frames = 40, Width = 16, Height = 16, ShardSize = 2, Seed = 7,
    };

    /// <summary>The tiny training setup's VAE (made on first use).</summary>
    private string Vae()
    {
        TinyTraining.Options(_dir, "global", "unused", 0);
        return P("vae");
    }

    [Fact]
    public void HoldsTheGlobalUnitsKeyframesOfFreshStoriesEncodedFrameByFrame()
    {
        var store = KeyframeStore.Build(P("kf"), Tiny, Vae());
        var vae = AutoencoderKL.Load(P("vae"));
        var rng = new Rng(3);
        for (int shard = 0; shard < 3; shard++)
            for (int slot = 0; slot < 2; slot++)
            {
                var positions = store.Positions(shard, slot);
                Assert.Equal(0, positions[0]);
                Assert.True(positions.Zip(positions.Skip(1)).All(p => p.Second > p.First));
                for (int story = 0; story < (shard < 2 ? 2 : 1); story++)
                {
                    var (index, frames) = store.Source(shard, slot, story);
                    Assert.Equal(shard * 2 + story, index);
                    Assert.True(frames[0] >= 0 && frames[^1] < Tiny.Frames);
                    var script = EpisodeScript.Create(Tiny.Toonworld, index);
                    var rendered = frames.Select(f => Renderer.Render(script, f)).ToList();
                    Assert.Equal(rendered.Select(r => Captioner.Caption(script, r.Annotation)),
                        store.UnitCaptions(shard, slot, story));
                    if (shard + slot + story != 0) continue;
                    // Each keyframe encoded alone (its own one-frame video), scaled, stored as float16.
                    using var _ = Tensor.NoGrad();
                    var expect = vae.ScaleLatents(vae.Encode(Ops.Stack(rendered.Select(r => r.Frame.ToTensor())
                        .ToList(), 0), frames: 1).Mean).ToArray();
                    var got = store.Latents(0, 0, 0).ToArray();
                    for (int i = 0; i < got.Length; i++)
                        Assert.True(MathF.Abs(expect[i] - got[i]) < 2e-3f * (1 + MathF.Abs(expect[i])), $"[{i}]");
                }
            }
        // A batch draws stories of one shard and slot: one unit shape.
        var (s, sl, stories) = store.Draw(rng, 3);
        Assert.Equal(3, stories.Length);
        Assert.All(stories, st => Assert.InRange(st, 0, s < 2 ? 1 : 0));
        Assert.InRange(sl, 0, 1);
        // Stories are drawn from their own scripts: they differ.
        Assert.NotEqual(store.UnitCaptions(0, 0, 0), store.UnitCaptions(0, 0, 1));
    }

    [Fact]
    public void AnInterruptedBuildResumesShardByShardAndOtherSettingsAreRefused()
    {
        string vae = Vae(), dir = P("kf");
        KeyframeStore.Build(dir, Tiny, vae);
        string Shard(int i) => Path.Combine(dir, $"shard_{i:D5}.safetensors");
        var bytes = Enumerable.Range(0, 3).Select(i => File.ReadAllBytes(Shard(i))).ToArray();
        var stamp0 = File.GetLastWriteTimeUtc(Shard(0));
        File.Delete(Shard(1));
        File.WriteAllBytes(Shard(2), bytes[2][..100]); // a damaged shard
        var e = Assert.ThrowsAny<LongshotException>(() => KeyframeStore.Load(dir));
        Assert.Contains("lacks shard 1 of 3", e.Message);
        Assert.Contains("same settings", e.Message);
        KeyframeStore.Build(dir, Tiny, vae);
        Assert.Equal(stamp0, File.GetLastWriteTimeUtc(Shard(0)));
        for (int i = 0; i < 3; i++) Assert.Equal(bytes[i], File.ReadAllBytes(Shard(i))); // the same draws again
        e = Assert.ThrowsAny<LongshotException>(() => KeyframeStore.Build(dir, Tiny with { Stories = 6 }, vae));
        Assert.Contains("other settings", e.Message);
    }

    [Fact]
    public void TheGlobalModelTrainsFromAKeyframeStoreAndOnlyThere()
    {
        var o = TinyTraining.Options(_dir, "global", "g", 2);
        KeyframeStore.Build(P("kf"), Tiny, o.Vae);
        var kf = o with { Data = null, Keyframes = P("kf"), Batch = 2 };
        var model = MtdTrainer.Train(kf);
        Assert.True(MtdPipelineParts.Load(P("g")).Tokenizer.VocabularySize > 4);
        Assert.Equal(model.Tokenizer.Vocabulary, MtdPipelineParts.Load(P("g")).Tokenizer.Vocabulary);
        // A resumed run may not switch to the dataset's episodes.
        var e = Assert.ThrowsAny<LongshotException>(() => MtdTrainer.Train(o with { Steps = 3 }));
        Assert.Contains("keyframes", e.Message);
        Assert.ThrowsAny<LongshotException>(() => MtdTrainer.Train(kf with { Out = P("g2"), Data = o.Data }));
        Assert.ThrowsAny<LongshotException>(() => MtdTrainer.Train(kf with { Out = P("g3"), Role = TrainingRole.Base,
            InitFrom = P("g") }));
        e = Assert.ThrowsAny<LongshotException>(() => MtdTrainer.Train(kf with { Out = P("g4"), Length = 5 }));
        Assert.Contains("length 5", e.Message);
    }

    [Fact]
    public void TheLocalModelTrainsFromAStoreOfItsLevelsUnitsWithTheirEndsGiven()
    {
        var o = TinyTraining.Options(_dir, "local", "l", 2);
        var store = KeyframeStore.Build(P("local-kf"), Tiny with { Levels = new[] { 2 } }, o.Vae);
        for (int slot = 0; slot < 2; slot++)
        {
            Assert.Equal(2, store.Level(slot));
            var given = store.Given(0, slot);
            Assert.True(given[0] && given[^1] && !given[1..^1].Any(g => g));
        }
        MtdTrainer.Train(o with { Data = null, Keyframes = P("local-kf") });
        Assert.True(File.Exists(Path.Combine(P("l"), "model_index.json")));
        // A store of global units is not the local model's, and the other way round.
        KeyframeStore.Build(P("kf"), Tiny, o.Vae);
        var e = Assert.ThrowsAny<LongshotException>(() =>
            MtdTrainer.Train(o with { Out = P("l2"), Data = null, Keyframes = P("kf") }));
        Assert.Contains("levels 1", e.Message);
        Assert.ThrowsAny<LongshotException>(() => MtdTrainer.Train(o with { Role = TrainingRole.Global, Out = P("g5"),
            Data = null,
            Keyframes = P("local-kf") }));
    }
}
