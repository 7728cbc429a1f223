using Longshot.Diffusion.Clips;
using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Schedulers;
using Longshot.Diffusion.TextToVideo;
using Longshot.Diffusion.Unet3D;
using Longshot.Distributed;
using Longshot.Tensors;
using Longshot.Tensors.Nn;
using Xunit;

namespace Longshot.Diffusion.Tests;

/// <summary>
/// Video-Infinity over a published text-to-video model (the tiny random folder of tools/make_t2v_pipeline_golden.py,
/// whose temporal layers are random, so every exchange changes something): one clip is the ordinary pipeline, the
/// video does not depend on how many workers host the clips, the temporal convolution stack with shared statistics
/// equals the whole video's, and independent clips are separate videos.
/// </summary>
[Collection("Serial")]
public class TextToVideoClipsTests
{
    private static string Folder => Path.Combine(AppContext.BaseDirectory, "Golden", "t2v", "pipeline_tiny");

    private static TextToVideoPipeline Pipe(string algorithm = "sde-dpmsolver++")
    {
        var pipe = TextToVideoPipeline.Load(Folder);
        pipe.SchedulerConfig = pipe.SchedulerConfig with
        {
            ClassName = DiffusersSchedulerConfig.DpmSolver, AlgorithmType = algorithm, UseKarrasSigmas = true,
        };
        return pipe;
    }

    private static TextToVideoSettings Settings(int frames) => new()
    {
        Prompt = "A red panda eats bamboo", NegativePrompt = "blurry", Frames = frames, Height = 8, Width = 16,
        Steps = 3, GuidanceScale = 7.5f, Seed = 5,
        FramePrompts = Enumerable.Range(0, frames).Select(f => f < frames / 2 ? "A red panda eats bamboo"
            : "a panda sleeps in a tree").ToArray(),
    };

    [Fact]
    public void OneClipOverTheWholeVideoIsTheOrdinaryPipeline()
    {
        var s = Settings(6);
        var ordinary = Pipe().Denoise(s);
        var clips = TextToVideoClips.Denoise(Pipe(), s, new ClipSettings(6, ClipAttention.Local, Window: 6),
            new SingleProcessCommunicator());
        SvdUnetParityTests.AssertClose(ordinary, clips.Latents, 1e-4);
        Assert.Equal(0, clips.BytesExchanged);
    }

    [Fact]
    public void TheVideoDoesNotDependOnHowManyWorkersHostTheClips()
    {
        using (new BuiltinGemm())
        {
            var s = Settings(12);
            foreach (var clips in new[]
            {
                new ClipSettings(4, ClipAttention.Dual, Window: 2, GlobalFrames: 4, SwitchTimestep: 500),
                new ClipSettings(4, ClipAttention.Dual, Window: 2, GlobalFrames: 4, SwitchTimestep: 500,
                    Selection: GlobalSelection.Strided),
            })
            {
                var (latents, bytes) = TextToVideoClips.Denoise(Pipe(), s, clips, new SingleProcessCommunicator());
                Assert.True(bytes > 0);
                var threads = latents.ToArray();
                float[] Ranks(int n) => ClipTestRuns.OverRanks(n, c =>
                    TextToVideoClips.Denoise(Pipe(), s, clips, c).Latents.ToArray());
                Assert.Equal(threads, Ranks(2));
                Assert.Equal(threads, Ranks(3));
            }
        }
    }

    [Fact]
    public void IndependentClipsAreSeparateVideosAndExchangeJoinsThem()
    {
        var s = Settings(12) with { FramePrompts = null };
        var pipe = Pipe("dpmsolver++");
        var independent = TextToVideoClips.Denoise(pipe, s, new ClipSettings(4, ClipAttention.Independent),
            new SingleProcessCommunicator()).Latents;
        var dual = TextToVideoClips.Denoise(pipe, s, new ClipSettings(4, ClipAttention.Dual, Window: 2,
            GlobalFrames: 4, SwitchTimestep: 500), new SingleProcessCommunicator()).Latents;
        var local = TextToVideoClips.Denoise(pipe, s, new ClipSettings(4, ClipAttention.Local, Window: 2),
            new SingleProcessCommunicator()).Latents;
        Assert.NotEqual(independent.ToArray(), dual.ToArray());
        Assert.NotEqual(independent.ToArray(), local.ToArray());
        Assert.NotEqual(local.ToArray(), dual.ToArray());
        // The second clip alone, from its part of the video's noise, is what the independent run made of it.
        var noise = Tensor.Randn(new Rng(s.Seed), 1, 4, 12, 4, 8).Narrow(2, 4, 4).Contiguous();
        var alone = pipe.Denoise(s with { Frames = 4 }, new TextToVideoNoise(noise));
        SvdUnetParityTests.AssertClose(alone, independent.Narrow(2, 4, 4).Contiguous(), 1e-4);
    }

    /// <summary>The temporal convolution stack (group norms over frames, convolutions over frames) on three clips that
    /// share statistics and edge frames gives the whole video's output, frame for frame.</summary>
    [Fact]
    public void TheTemporalConvolutionStackOverClipsIsTheWholeVideos()
    {
        var store = new ParameterStore();
        var stack = new TemporalConvStack(VarBuilder.Fresh(store, 3), 16, 4);
        foreach (var (_, p) in store.Named)
        {
            var noise = Tensor.Randn(new Rng(8), p.Shape).ToArray();
            var v = p.Span;
            for (int i = 0; i < v.Length; i++) v[i] += 0.3f * noise[i];
        }
        using var _ = Tensor.NoGrad();
        var video = Tensor.Randn(new Rng(1), 10, 16, 3, 5) * 2f + 0.5f;
        var whole = stack.Forward(video, 10);
        SvdUnetParityTests.AssertClose(whole, ClipTestRuns.OverClips(video, (clip, scope) =>
            stack.Forward(clip, clip.Shape[0], scope)), 1e-5);
    }

    [Fact]
    public void OnePromptPerFrameEqualsThePromptWhenTheyAreAllIt()
    {
        var s = Settings(4) with { FramePrompts = null, Steps = 2 };
        var one = Pipe().Denoise(s).ToArray();
        var each = Pipe().Denoise(s with { FramePrompts = Enumerable.Repeat(s.Prompt, 4).ToArray() }).ToArray();
        Assert.Equal(one, each);
        var story = Pipe().Denoise(s with { FramePrompts = new[] { s.Prompt, s.Prompt, "a dog", "a dog" } });
        Assert.NotEqual(one, story.ToArray());
    }

    private sealed class CancelAfter(int steps, CancellationTokenSource cts) : IProgress<StepProgress>
    {
        public void Report(StepProgress p)
        {
            if (p.Done == steps) cts.Cancel();
        }
    }

    /// <summary>A clip run stopped after a step continues from its run folder to the bits of an uninterrupted one
    /// (each clip's solver state and its window of the step noise included).</summary>
    [Fact]
    public void AStoppedClipRunContinuesFromItsRunFolder()
    {
        var s = Settings(12) with { Steps = 4 };
        var clips = new ClipSettings(4, ClipAttention.Dual, Window: 2, GlobalFrames: 4, SwitchTimestep: 500);
        var whole = TextToVideoClips.Denoise(Pipe(), s, clips, new SingleProcessCommunicator()).Latents.ToArray();
        var dir = Directory.CreateTempSubdirectory("longshot-t2v-clips-").FullName;
        try
        {
            using var cts = new CancellationTokenSource();
            Assert.ThrowsAny<OperationCanceledException>(() => TextToVideoClips.Denoise(Pipe(), s, clips,
                new SingleProcessCommunicator(), null, new CancelAfter(2, cts), cts.Token, dir));
            Assert.NotEmpty(Directory.GetFiles(Path.Combine(dir, "clips")));
            var resumed = TextToVideoClips.Denoise(Pipe(), s, clips, new SingleProcessCommunicator(), null, null,
                default, dir).Latents.ToArray();
            Assert.Equal(whole, resumed);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void APromptPastTheEncodersLengthIsSaidToBeCutOnce()
    {
        var pipe = Pipe();
        var said = new System.Collections.Concurrent.ConcurrentBag<string>();
        pipe.Warning = said.Add;
        var s = Settings(12) with
        {
            Prompt = string.Join(" ", Enumerable.Repeat("panda", 100)), FramePrompts = null, Steps = 1,
        };
        TextToVideoClips.Denoise(pipe, s, new ClipSettings(4, ClipAttention.Local, Window: 2),
            new SingleProcessCommunicator());
        Assert.Contains("the text encoder reads the first 75", Assert.Single(said));
    }
}
