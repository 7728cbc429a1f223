using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Schemes;
using Longshot.Diffusion.Vae;
using Longshot.Tensors;
using Xunit;
using static Longshot.Diffusion.Tests.DodPipelineTestsAccess;

namespace Longshot.Diffusion.Tests;

[Collection("Serial")]
public class DodPipelineTests
{
    private const string Story = "# test\n0-20: a red ball\n20-: a blue ball rolls\n";

    [Fact]
    public void EveryFrameIsGeneratedAndTheVideoDoesNotDependOnTheBatchSize()
    {
        using (new BuiltinGemm())
        {
            var story = Storyline.Parse(Story, frames: 30);
            var o = new SamplerOptions(Steps: 2, GuidanceScale: 1.5f);
            var one = DodPipelineTestsAccess.Pipeline(1).GenerateLatents(R(story, 30, 7, o));
            var three = DodPipelineTestsAccess.Pipeline(3).GenerateLatents(R(story, 30, 7, o));
            Assert.All(Enumerable.Range(0, 30), f => Assert.True(one.ContainsKey(f)));
            foreach (var f in Enumerable.Range(0, 30)) Assert.Equal(one[f].ToArray(), three[f].ToArray());
            var other = DodPipelineTestsAccess.Pipeline(3).GenerateLatents(R(story, 30, 8, o));
            Assert.NotEqual(one[5].ToArray(), other[5].ToArray());
            var frames = DodPipelineTestsAccess.Pipeline(1).Decode(one, 30).ToList();
            Assert.Equal(30, frames.Count);
            Assert.Equal(new[] { 3, 8, 8 }, frames[0].Shape);
            var ar = DodPipelineTestsAccess.Pipeline(1)
                .GenerateLatents(R(story, 30, 7, o) with { Scheme = new Autoregressive() });
            Assert.All(Enumerable.Range(0, 30), f => Assert.True(ar.ContainsKey(f)));
        }
    }

    [Fact]
    public void GlobalStepsChangeOnlyHowTheKeyframesAreSampled()
    {
        using (new BuiltinGemm())
        {
            var story = Storyline.Parse(Story, frames: 30);
            var o = new SamplerOptions(Steps: 2, GuidanceScale: 1.5f);
            var keyframes = new DiffusionOverDiffusion().Schedule(R(story, 30, 7, o)).Levels[0][0].Positions;
            var plain = Pipeline(1).GenerateLatents(R(story, 30, 7, o));
            var same = Pipeline(1).GenerateLatents(R(story, 30, 7, o with { GlobalSteps = 2 }));
            Assert.All(Enumerable.Range(0, 30), f => Assert.Equal(plain[f].ToArray(), same[f].ToArray()));
            // Keyframes sampled with 5 steps whether all units or only the global ones take 5.
            var five = Pipeline(1).GenerateLatents(R(story, 30, 7, o with { GlobalSteps = 5 }));
            var allFive = Pipeline(1).GenerateLatents(R(story, 30, 7, o with { Steps = 5 }));
            Assert.All(keyframes, f => Assert.Equal(allFive[f].ToArray(), five[f].ToArray()));
            Assert.All(keyframes, f => Assert.NotEqual(plain[f].ToArray(), five[f].ToArray()));
            Assert.Equal(5, (o with { GlobalSteps = 5 }).ForGlobal().Steps);
            Assert.Contains("global steps 5", (o with { GlobalSteps = 5 }).Identity);
            Assert.Equal(o.Identity, (o with { GlobalSteps = 2 }).Identity);
            Assert.ThrowsAny<LongshotException>(() => (o with { GlobalSteps = -1 }).Validate());
        }
    }

    [Fact]
    public void KeyframesAloneAreTheFullRunsKeyframes()
    {
        using (new BuiltinGemm())
        {
            var story = Storyline.Parse(Story, frames: 40);
            var o = new SamplerOptions(Steps: 2, GuidanceScale: 1.5f, GlobalSteps: 3);
            var request = R(story, 40, 7, o);
            var keyframes = Pipeline(2).GenerateKeyframes(request);
            var full = Pipeline(1).GenerateLatents(request);
            Assert.Equal(new DiffusionOverDiffusion().Schedule(request).Levels[0][0].Positions, keyframes.Keys.Order());
            Assert.All(keyframes, k => Assert.Equal(full[k.Key].ToArray(), k.Value.ToArray()));
            var other = Pipeline(1).GenerateKeyframes(R(story, 40, 8, o));
            Assert.NotEqual(keyframes[0].ToArray(), other[0].ToArray());
            var e = Assert.ThrowsAny<LongshotException>(() => Pipeline(1).GenerateKeyframes(request with
                { Scheme = new Autoregressive() }));
            Assert.Contains("only the dod scheme", e.Message);
        }
    }

    [Fact]
    public void TheVideoDoesNotDependOnThreadsOrParallelWorkers()
    {
        using (new BuiltinGemm())
        {
            var story = Storyline.Parse(Story, frames: 40);
            var o = new SamplerOptions(Steps: 2, GuidanceScale: 1.5f);
            int before = Longshot.Tensors.Kernels.Threads.Count;
            try
            {
                Longshot.Tensors.Kernels.Threads.Count = 1;
                var serial = DodPipelineTestsAccess.Pipeline(2, workers: 1).GenerateLatents(R(story, 40, 7, o));
                Longshot.Tensors.Kernels.Threads.Count = 2;
                var parallel = DodPipelineTestsAccess.Pipeline(2, workers: 2).GenerateLatents(R(story, 40, 7, o));
                var threaded = DodPipelineTestsAccess.Pipeline(2, workers: 1).GenerateLatents(R(story, 40, 7, o));
                foreach (var f in Enumerable.Range(0, 40))
                {
                    Assert.Equal(serial[f].ToArray(), parallel[f].ToArray());
                    Assert.Equal(serial[f].ToArray(), threaded[f].ToArray());
                }
            }
            finally { Longshot.Tensors.Kernels.Threads.Count = before; }
        }
    }

    [Fact]
    public void StorylinesMapFramesToPromptsAndNameBadLines()
    {
        var dense = Storyline.FromFramePrompts(new[] { "a", "a", "b", "b", "b", "a" });
        Assert.Equal(new[] { (0, 2, "a"), (2, 5, "b"), (5, 6, "a") },
            dense.Segments.Select(x => (x.Start, x.End, x.Prompt)).ToArray());
        Assert.Equal(dense.Segments, Storyline.Parse(dense.ToText()).Segments);
        var s = Storyline.Parse("0-10: one\n10s-: two\n", fps: 1, frames: 30);
        Assert.Equal(30, s.Frames);
        Assert.Equal("one", s.PromptAt(9));
        Assert.Equal("two", s.PromptAt(10));
        Assert.Equal("two", s.PromptAt(29));
        Assert.Contains(":2:",
            Assert.ThrowsAny<LongshotException>(() => Storyline.Parse("0-10: a\n12-20: b\n")).Message);
        Assert.Contains(":1:", Assert.ThrowsAny<LongshotException>(() => Storyline.Parse("zero to ten: a\n")).Message);
        Assert.Contains("empty", Assert.ThrowsAny<LongshotException>(() => Storyline.Parse("0-0: a\n")).Message);
        Assert.Contains("requested", Assert.ThrowsAny<LongshotException>(() => Storyline.Parse("0-10: a\n", frames: 20))
            .Message);
    }
}

[Collection("Serial")]
public class DodResumeTests
{
    [Fact]
    public void AKilledRunContinuesToTheIdenticalVideo()
    {
        using var gemm = new BuiltinGemm();
        var dir = Directory.CreateTempSubdirectory("longshot-run-").FullName;
        try
        {
            var story = Storyline.Parse("0-: a red ball\n", frames: 30);
            var o = new SamplerOptions(Steps: 2, GuidanceScale: 1f);
            var straight = DodPipelineTestsAccess.Pipeline(2).GenerateLatents(R(story, 30, 5, o));
            using var cts = new CancellationTokenSource();
            var stop = new Relay<GenerationProgress>(p => { if (p.Level == 2 && p.UnitsDone >= 2) cts.Cancel(); });
            Assert.ThrowsAny<OperationCanceledException>(() => DodPipelineTestsAccess.Pipeline(2)
                .GenerateLatents(R(story, 30, 5, o, dir), stop, cts.Token));
            int saved = Directory.GetFiles(Path.Combine(dir, "units")).Length;
            Assert.InRange(saved, 2, 6);
            var resumed = DodPipelineTestsAccess.Pipeline(2).GenerateLatents(R(story, 30, 5, o, dir));
            foreach (var f in Enumerable.Range(0, 30)) Assert.Equal(straight[f].ToArray(), resumed[f].ToArray());
            Assert.ThrowsAny<LongshotException>(() => DodPipelineTestsAccess.Pipeline(2)
                .GenerateLatents(R(story, 30, 6, o, dir)));
        }
        finally { Directory.Delete(dir, true); }
    }

}

internal static class DodPipelineTestsAccess
{
    /// <summary>The batches diffusion over diffusion would start next.</summary>
    public static List<List<WorkUnit>> Batches(List<WorkUnit> todo, Func<int, bool> known, int free, int workers,
        int batchSize) => DiffusionOverDiffusion.NextBatches(todo, known, free, workers, batchSize);

    /// <summary>A DoD request with L = 4 (the test models' length).</summary>
    public static GenerationRequest R(Storyline story, int frames, ulong seed, SamplerOptions o,
        string? runDir = null) =>
        new(story, frames)
        {
            Scheme = new DiffusionOverDiffusion(), Length = 4, Seed = seed, Sampler = o, RunDir = runDir,
        };

    public static LongVideoPipeline Pipeline(int batch, int workers = 1)
    {
        return new LongVideoPipeline(TinyMtd.Create(1), TinyMtd.Create(2),
            AutoencoderKL.Create(new AutoencoderKLConfig { BlockOutChannels = new[] { 32, 32 }, Temporal = true }, 3),
            4)
        {
            BatchSize = batch, Workers = workers,
        };
    }
}

[Collection("Serial")]
public class DodStreamingTests
{
    [Fact]
    public void StreamedFramesEqualDecodingAtTheEndAndArriveBeforeTheLastUnit()
    {
        using (new BuiltinGemm())
        {
            var story = Storyline.Parse("0-: a red ball\n", frames: 30);
            var o = new SamplerOptions(Steps: 2, GuidanceScale: 1f);
            var pipe = DodPipelineTestsAccess.Pipeline(1);
            var latents = pipe.GenerateLatents(R(story, 30, 5, o));
            var atEnd = pipe.Decode(latents, 30).ToList();
            int unitsAtFirstFrame = -1, unitsDone = 0;
            var progress = new Relay<GenerationProgress>(p => { if (p.Level == 4) unitsDone = p.UnitsDone; });
            var streamed = new List<Longshot.Tensors.Tensor>();
            foreach (var f in pipe.GenerateFrames(R(story, 30, 5, o), progress))
            {
                if (streamed.Count == 0) unitsAtFirstFrame = unitsDone;
                streamed.Add(f);
            }
            Assert.Equal(30, streamed.Count);
            for (int i = 0; i < 30; i++) Assert.Equal(atEnd[i].ToArray(), streamed[i].ToArray());
            var lastLevelUnits = new DodSchedule(30, 4).Levels[^1].Count;
            Assert.True(unitsAtFirstFrame < lastLevelUnits,
                $"first frame after {unitsAtFirstFrame} of {lastLevelUnits} last-level units");
        }
    }

}

[Collection("Serial")]
public class DodRegenerationTests
{
    [Fact]
    public void RegeneratingARangeKeepsEveryOtherFrame()
    {
        using (new BuiltinGemm())
        {
            var story = Storyline.Parse("0-: a red ball\n", frames: 30);
            var newStory = Storyline.Parse("0-: a blue ball rolls\n", frames: 30);
            var o = new SamplerOptions(Steps: 2, GuidanceScale: 1f);
            var pipe = DodPipelineTestsAccess.Pipeline(2);
            var original = pipe.GenerateLatents(R(story, 30, 5, o));
            var g = pipe.Regenerate(original, R(newStory, 30, 99, o), 10, 13);
            var (changed, lo, hi) = (g.Latents, g.Lo, g.Hi);
            Assert.True(lo <= 10 && hi >= 13, $"range [{lo}, {hi})");
            Assert.True(hi - lo < 30, "only part of the video is redrawn");
            foreach (var f in Enumerable.Range(0, 30).Where(f => f < lo || f >= hi))
                Assert.Equal(original[f].ToArray(), changed[f].ToArray());
            Assert.Contains(Enumerable.Range(lo, hi - lo), f => !original[f].ToArray()
                .SequenceEqual(changed[f].ToArray()));
            Assert.ThrowsAny<LongshotException>(() => pipe.Regenerate(original, R(newStory, 30, 99, o), 20, 40));
        }
    }
}

[Collection("Serial")]
public class DodRegenerationPixelTests
{
    [Fact]
    public void RegeneratedVideosKeepEveryDecodedFrameOutsideTheRangeBitForBit()
    {
        using (new BuiltinGemm())
        {
            var story = Storyline.Parse("0-: a red ball\n", frames: 40);
            var newStory = Storyline.Parse("0-: a blue ball rolls\n", frames: 40);
            var o = new SamplerOptions(Steps: 2, GuidanceScale: 1f);
            var pipe = DodPipelineTestsAccess.Pipeline(1);
            // Fresh temporal layers are the identity, which would decode every frame on its own: mix frames.
            var rng = new Rng(8);
            using (Tensor.NoGrad())
                foreach (var (name, w) in pipe.Vae.Parameters.Named.Where(p => AutoencoderKL.IsTemporal(p.Name)))
                    w.CopyFrom(w + Tensor.Randn(rng, w.Shape) * 0.05f);
            var original = pipe.GenerateLatents(R(story, 40, 5, o));
            var before = pipe.Decode(original, 40).Select(f => f.ToArray()).ToList();
            var g = pipe.Regenerate(original, R(newStory, 40, 99, o), 18, 22);
            var after = pipe.DecodeRegeneration(g).Select(f => f.ToArray()).ToList();
            Assert.Equal(40, after.Count);
            for (int f = 0; f < 40; f++)
                if (f < g.Lo || f >= g.Hi) Assert.True(before[f].SequenceEqual(after[f]),
                    $"frame {f} outside [{g.Lo}, {g.Hi}) changed");
            Assert.Contains(Enumerable.Range(g.Lo, g.Hi - g.Lo), f => !before[f].SequenceEqual(after[f]));
            // Decoding the new latents whole would have changed frames next to the range (tiles overlap it).
            var whole = pipe.Decode(g.Latents, 40).Select(f => f.ToArray()).ToList();
            Assert.Contains(Enumerable.Range(0, 40).Where(f => f < g.Lo || f >= g.Hi),
                f => !before[f].SequenceEqual(whole[f]));
        }
    }
}

public class DodSchedulingTests
{
    [Fact]
    public void BatchesStartOnlyWhenTheirFramesExistCoarsestFirstAndShareTheTail()
    {
        var schedule = new DodSchedule(226, 16);                    // 1 global unit, 15 level-2 units
        var todo = schedule.Units.ToList();
        var known = new HashSet<int>();
        var first = Batches(todo, known.Contains, 2, 2, 4);
        Assert.Single(first);                                       // only the global unit has nothing to wait for
        Assert.True(first[0].Single().IsGlobal);
        foreach (var p in first[0][0].Positions) known.Add(p);
        var next = Batches(todo, known.Contains, 2, 2, 4);
        Assert.Equal(new[] { 4, 4 }, next.Select(b => b.Count));
        Assert.All(next.SelectMany(b => b), u => Assert.Equal(2, u.Level));
        Assert.Equal(7, todo.Count);
        // 7 left on 2 workers with batches of 4: 4 + 3, then nothing is left to start.
        Assert.Equal(new[] { 4, 3 }, Batches(todo, known.Contains, 2, 2, 4).Select(b => b.Count));
        Assert.Empty(todo);
        // 5 left on 2 workers: 3 + 2, not 4 + 1.
        var tail = schedule.Levels[1].Take(5).ToList();
        Assert.Equal(new[] { 3, 2 }, Batches(tail, known.Contains, 2, 2, 4).Select(b => b.Count));
        // A level-3 unit waits until the level-2 unit making its end frames is done.
        var deep = new DodSchedule(1024, 16);
        var level3 = deep.Levels[2].ToList();
        Assert.Empty(Batches(level3, new HashSet<int>().Contains, 2, 2, 1));
        Assert.Equal(225, level3.Count);
    }
}
