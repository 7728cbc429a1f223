using Longshot.Diffusion.Clips;
using Longshot.Diffusion.Svd;
using Longshot.Distributed;
using Longshot.Tensors;
using Longshot.Tensors.Nn;
using Xunit;

namespace Longshot.Diffusion.Tests;

/// <summary>
/// Video-Infinity over Stable Video Diffusion (the tiny random published-layout folder, and the same UNet with
/// ExVideo's extension, every weight perturbed so no identity layer hides an exchange): one clip is the ordinary
/// pipeline, the video does not depend on how many workers host the clips, and the temporal resnets and ExVideo's
/// positional convolution over clips equal the whole video's.
/// </summary>
[Collection("Serial")]
public class SvdClipsTests
{
    private static readonly SvdSettings Settings = new()
    {
        Frames = 12, Height = 24, Width = 40, Steps = 3, MinGuidance = 1f, MaxGuidance = 3f, Seed = 7,
    };

    private static readonly Tensor Image = Tensor.Rand(new Rng(3), -1f, 1f, 3, 24, 40);

    private static SvdPipeline Pipe(bool extended = false)
    {
        var pipe = SvdPipeline.Load(SvdUnetParityTests.Golden("pipeline_tiny"));
        if (!extended) return pipe;
        var unet = SvdUnet.Random(pipe.Unet.Config with { ExtensionFrames = 8 }, 4);
        Perturb(unet.Parameters, 0.05f);
        return new SvdPipeline(unet, pipe.Vae, pipe.ImageEncoder, pipe.SchedulerConfig, pipe.FeatureExtractor);
    }

    private static void Perturb(ParameterStore store, float scale)
    {
        var rng = new Rng(99);
        foreach (var (_, p) in store.Named)
        {
            var noise = Tensor.Randn(rng, p.Shape).ToArray();
            var v = p.Span;
            for (int i = 0; i < v.Length; i++) v[i] += scale * noise[i];
        }
    }

    [Fact]
    public void OneClipOverTheWholeVideoIsTheOrdinaryPipeline()
    {
        var s = Settings with { Frames = 6 };
        var pipe = Pipe();
        var ordinary = pipe.Denoise(Image, s);
        var (clips, bytes) = SvdClips.Denoise(pipe, Image, s, new ClipSettings(6, ClipAttention.Local, Window: 6),
            new SingleProcessCommunicator());
        SvdUnetParityTests.AssertClose(ordinary, clips, 1e-4);
        Assert.Equal(0, bytes);
    }

    [Fact]
    public void TheVideoDoesNotDependOnHowManyWorkersHostTheClips()
    {
        using (new BuiltinGemm())
        {
            var clips = new ClipSettings(4, ClipAttention.Dual, Window: 2, GlobalFrames: 4, SwitchTimestep: 500);
            foreach (bool extended in new[] { false, true })
            {
                var (latents, bytes) = SvdClips.Denoise(Pipe(extended), Image, Settings, clips,
                    new SingleProcessCommunicator());
                Assert.True(bytes > 0);
                float[] Ranks(int n) => ClipTestRuns.OverRanks(n, c =>
                    SvdClips.Denoise(Pipe(extended), Image, Settings, clips, c).Latents.ToArray());
                Assert.Equal(latents.ToArray(), Ranks(2));
                Assert.Equal(latents.ToArray(), Ranks(3));
                var independent = SvdClips.Denoise(Pipe(extended), Image, Settings,
                    clips with { Attention = ClipAttention.Independent }, new SingleProcessCommunicator()).Latents;
                Assert.NotEqual(latents.ToArray(), independent.ToArray());
            }
        }
    }

    [Fact]
    public void TheTemporalResnetOverClipsIsTheWholeVideos()
    {
        var store = new ParameterStore();
        var resnet = new TemporalResnet(VarBuilder.Fresh(store, 3), 32, 32, null, 1e-5f);
        Perturb(store, 0.3f);
        using var _ = Tensor.NoGrad();
        var video = Tensor.Randn(new Rng(1), 10, 32, 3, 5) * 2f + 0.5f;
        var whole = resnet.Forward(video, null, 10);
        SvdUnetParityTests.AssertClose(whole, ClipTestRuns.OverClips(video, (clip, scope) =>
            resnet.Forward(clip, null, clip.Shape[0], scope)), 1e-5);
    }

    [Fact]
    public void ExVideosPositionalConvolutionOverClipsIsTheWholeVideos()
    {
        var store = new ParameterStore();
        var transformer = new SpatioTemporalTransformer(VarBuilder.Fresh(store, 5), 32, 2, 1, 24, extensionFrames: 16);
        Perturb(store, 0.3f);
        using var _ = Tensor.NoGrad();
        var tokens = Tensor.Randn(new Rng(2), 10, 3 * 5, 32);              // [F, S, C]
        var whole = transformer.PositionalConv(tokens, 10, 3, 5);
        var frames = tokens.Reshape(10, 3 * 5 * 32, 1, 1);                  // frames first for the clip split
        var joined = ClipTestRuns.OverClips(frames, (clip, scope) =>
        {
            int l = clip.Shape[0];
            return transformer.ClipPositionalConv(clip.Reshape(l, 15, 32), l, 3, 5, scope.Exchange!)
                .Reshape(l, 480, 1, 1);
        });
        SvdUnetParityTests.AssertClose(whole, joined.Reshape(10, 15, 32), 1e-5);
    }
}
