using Longshot.Diffusion.Clips;
using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Schemes;
using Longshot.Diffusion.Schedulers;
using Longshot.Diffusion.Text;
using Longshot.Diffusion.Unet;
using Longshot.Diffusion.Vae;
using Longshot.Distributed;
using Longshot.Tensors;
using Xunit;

namespace Longshot.Diffusion.Tests;

[Collection("Serial")]
public class ClipParallelTests
{
    private const string Story = "0-12: a red ball\n12-: a blue ball rolls\n";

    /// <summary>
    /// A small global/local pair whose temporal layers are not identity (fresh ones are: temporal convolutions start
    /// as identity and temporal attention's output at zero, so no exchange could change anything).
    /// </summary>
    private static LongVideoPipeline Pipeline()
    {
        var parts = Parts();
        return new LongVideoPipeline(parts, parts,
            AutoencoderKL.Create(new AutoencoderKLConfig { BlockOutChannels = new[] { 32, 32 }, Temporal = true }, 3),
            4);
    }

    private static MtdPipelineParts Parts()
    {
        var tok = WordTokenizer.Build(new[] { "a red ball", "a blue ball rolls" }, 8);
        var parts = MtdPipelineParts.Create(new MaskUnetConfig { BlockOutChannels = new[] { 32, 32 },
            AttentionLevels = new[] { true, true } },
            new TextEncoderConfig { VocabSize = tok.VocabularySize, MaxLength = 8, Hidden = 32, Heads = 4, Layers = 1,
                Intermediate = 64 }, tok, new SchedulerConfig(), 1);
        var rng = new Rng(99);
        foreach (var (_, p) in parts.Unet.Parameters.Named)
        {
            var noise = Tensor.Randn(rng, p.Shape).ToArray();
            var v = p.Span;
            for (int i = 0; i < v.Length; i++) v[i] += 0.05f * noise[i];
        }
        return parts;
    }

    private static GenerationRequest Request(int frames, ClipSettings clips, string sampler = "dpm++",
        float guidance = 1.5f) =>
        new(Storyline.Parse(Story, frames: frames), frames)
        {
            Scheme = new ClipParallel(clips), Seed = 11,
            Sampler = new SamplerOptions(Steps: 3, GuidanceScale: guidance, Scheduler: sampler),
        };

    private static float[] Flat(Dictionary<int, Tensor> latents, int frames) =>
        Enumerable.Range(0, frames).SelectMany(f => latents[f].ToArray()).ToArray();

    /// <summary>Runs <paramref name="r"/> over <paramref name="ranks"/> in-process ranks (threads).</summary>
    private static float[] OverRanks(GenerationRequest r, int ranks) => ClipTestRuns.OverRanks(ranks, c =>
    {
        var p = Pipeline();
        p.Ranks = c;
        return Flat(p.GenerateLatents(r), r.Frames);
    });

    [Fact]
    public void OneClipWithoutGlobalFramesIsOrdinarySamplingWithTheSameWindowBitForBit()
    {
        using (new BuiltinGemm())
        {
            foreach (var sampler in new[] { "dpm++", "ddpm" })
            {
                var r = Request(20, new ClipSettings(ClipFrames: 20, ClipAttention.Local, Window: 3), sampler);
                var clip = Flat(Pipeline().GenerateLatents(r), 20);
                var parts = Parts();
                var ordinary = new MtdSampler(parts, 4, 4, 4) { AttentionWindow = 3 }.Sample(new[]
                {
                    new MtdClip(Enumerable.Range(0, 20).ToArray(),
                        Enumerable.Range(0, 20).Select(f => r.Story.PromptAt(f)).ToArray(), new Tensor?[20],
                        ClipRun.NoiseOf(r.Seed)),
                }, r.Sampler)[0].ToArray();
                Assert.Equal(ordinary, clip);
                var full = new MtdSampler(parts, 4, 4, 4).Sample(new[]
                {
                    new MtdClip(Enumerable.Range(0, 20).ToArray(),
                        Enumerable.Range(0, 20).Select(f => r.Story.PromptAt(f)).ToArray(), new Tensor?[20],
                        ClipRun.NoiseOf(r.Seed)),
                }, r.Sampler)[0].ToArray();
                Assert.NotEqual(full, clip);
            }
        }
    }

    [Fact]
    public void TheVideoDoesNotDependOnHowManyWorkersHostTheClips()
    {
        using (new BuiltinGemm())
        {
            foreach (var attention in new[] { ClipAttention.Dual, ClipAttention.Independent })
            {
                var r = Request(24, new ClipSettings(ClipFrames: 6, attention, Window: 3, GlobalFrames: 4,
                    SwitchTimestep: 500));
                var threads = Flat(Pipeline().GenerateLatents(r), 24);
                Assert.Equal(threads, OverRanks(r, 2));
                Assert.Equal(threads, OverRanks(r, 3));
                Assert.Equal(threads, OverRanks(r, 4));
            }
        }
    }

    [Fact]
    public void EachScopeChangesTheVideoAndExchangeJoinsTheClips()
    {
        using (new BuiltinGemm())
        {
            var videos = Enum.GetValues<ClipAttention>().ToDictionary(a => a, a =>
                Flat(Pipeline().GenerateLatents(Request(24, new ClipSettings(6, a, Window: 3, GlobalFrames: 4,
                    SwitchTimestep: 500))), 24));
            foreach (var a in videos.Keys)
                foreach (var b in videos.Keys.Where(b => b != a)) Assert.NotEqual(videos[a], videos[b]);
            // Independent clips are separate videos: the first equals sampling it alone (its noise is the start of the
            // whole video's).
            var alone = Flat(Pipeline().GenerateLatents(Request(24, new ClipSettings(6, ClipAttention.Independent,
                Window: 3, GlobalFrames: 4)) with { Frames = 6 }), 6);
            Assert.Equal(alone, videos[ClipAttention.Independent].Take(alone.Length).ToArray());
            Assert.NotEqual(alone, videos[ClipAttention.Dual].Take(alone.Length).ToArray());
        }
    }

    [Fact]
    public void LayoutSplitsEvenlyAndHostsContiguousRuns()
    {
        var l = new ClipLayout(1000, 16, 16);
        Assert.Equal(63, l.Clips);
        Assert.Equal(1000, Enumerable.Range(0, l.Clips).Sum(l.Length));
        Assert.All(Enumerable.Range(0, l.Clips), c => Assert.InRange(l.Length(c), 15, 16));
        Assert.Equal(16, l.GlobalPositions.Count);
        Assert.Equal(31, l.GlobalPositions[0]);
        Assert.Equal((0, 31), l.Hosted(0, 2));
        Assert.Equal((31, 32), l.Hosted(1, 2));
        Assert.ThrowsAny<LongshotException>(() => l.Hosted(0, 64));
        var e = Assert.ThrowsAny<LongshotException>(() => new ClipSettings(ClipFrames: 4, Window: 8).Validate(64));
        Assert.Contains("window", e.Message);
    }

    [Fact]
    public void AWindowedGeneratorGivesItsPartOfTheWholeDrawStepAfterStep()
    {
        var first = Tensor.Randn(new Rng(5), 10).ToArray();
        var w = new Rng(5).Window(3, 10);
        Assert.Equal(first.Skip(3).Take(5).ToArray(), Tensor.Randn(w, 5).ToArray());
        var wholeRng = new Rng(5);
        Tensor.Randn(wholeRng, 10);
        var second = Tensor.Randn(wholeRng, 10).ToArray();
        Assert.Equal(second.Skip(3).Take(5).ToArray(), Tensor.Randn(w, 5).ToArray());
        Assert.Equal(wholeRng.Counter, w.Counter);
    }
}

public class ClipBoardTests
{
    [Fact]
    public void NeighboursSwapEdgesAndAFailedClipFailsTheOthersInsteadOfHanging()
    {
        var layout = new ClipLayout(12, 4, 2);
        var board = new ClipBoard(layout, new SingleProcessCommunicator(), 0, 3);
        var got = new (float[]? Before, float[]? After)[3];
        var threads = Enumerable.Range(0, 3).Select(i => new Thread(() =>
            got[i] = board.Neighbours(i, new[] { 10f * i }, new[] { 10f * i + 1 }))).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.Null(got[0].Before);
        Assert.Equal(new[] { 10f }, got[0].After);        // clip 1's first frame
        Assert.Equal(new[] { 1f }, got[1].Before);        // clip 0's last frame
        Assert.Equal(new[] { 20f }, got[1].After);
        Assert.Null(got[2].After);
        Assert.Equal(2 * 3 - 2, (int)(board.BytesExchanged / 4));

        var errors = new Exception?[2];
        var waiting = Enumerable.Range(0, 2).Select(i => new Thread(() =>
        {
            try { board.Neighbours(i, new[] { 0f }, new[] { 0f }); }
            catch (Exception e) { errors[i] = e; }
        })).ToList();
        waiting.ForEach(t => t.Start());
        Thread.Sleep(100);
        board.Fail(new InvalidOperationException("clip 2 ran out of memory"));
        Assert.True(waiting.All(t => t.Join(TimeSpan.FromSeconds(10))), "a clip kept waiting");
        Assert.All(errors, e => Assert.Contains("clip 2 ran out of memory",
            Assert.IsType<ClipFailedException>(e).Message));
        board.Fail(new OperationCanceledException());
        Assert.ThrowsAny<Exception>(() => board.Agree(0, false));
    }
}
