using Longshot.Diffusion.Families;
using Longshot.Diffusion.Svd;
using Longshot.Tensors.IO;
using Longshot.Video.Imaging;
using Xunit;

namespace Longshot.Diffusion.Tests;

/// <summary>
/// Stable Video Diffusion's whole image-to-video pipeline against diffusers v0.25's StableVideoDiffusionPipeline
/// (Golden/svd/pipeline_tiny: a published-layout folder of small random components, the UNet stored as fp16 only)
/// given the same image, initial latents and image noise: 3 frames of 24x40, 3 steps, guidance 1 to 3, decoded in
/// chunks of 2.
/// </summary>
public class SvdPipelineParityTests
{
    private static readonly SvdSettings Settings = new()
    {
        Frames = 3, Height = 24, Width = 40, Steps = 3, MinGuidance = 1f, MaxGuidance = 3f, DecodeChunkSize = 2,
    };

    [Fact]
    public void GeneratesTheReferencesFrames()
    {
        var pipe = SvdPipeline.Load(SvdUnetParityTests.Golden("pipeline_tiny"));
        var io = SafeTensors.Load(SvdUnetParityTests.Golden("pipeline_tiny.io.safetensors"));
        var noise = new SvdNoise(io["latents"], io["image_noise"]);
        var frames = pipe.Generate(io["image"], Settings, noise);
        // Inference records no autograd graph (it would keep every decoder activation alive).
        Assert.False(frames.RequiresGrad);
        var expected = io["frames"];   // [F, 3, H, W] in [0, 1]
        for (int f = 0; f < 3; f++)
        {
            var ours = Frame.FromTensor(frames.Narrow(0, f, 1).Squeeze(0));
            var theirs = Frame.FromTensor(expected.Narrow(0, f, 1).Squeeze(0) * 2f - 1f);
            double psnr = Frame.Psnr(ours, theirs);
            Assert.True(psnr >= 45, $"frame {f}: {psnr:F1} dB from the reference's");
        }
    }

    [Fact]
    public void TheFinalLatentsMatch()
    {
        var pipe = SvdPipeline.Load(SvdUnetParityTests.Golden("pipeline_tiny"));
        var io = SafeTensors.Load(SvdUnetParityTests.Golden("pipeline_tiny.io.safetensors"));
        var noise = new SvdNoise(io["latents"], io["image_noise"]);
        // Decoding is checked above; here the denoised latents, through a pipeline that stops before decoding.
        var latents = pipe.Denoise(io["image"], Settings, noise);
        SvdUnetParityTests.AssertClose(io["final_latents"], latents, 2e-4);
    }

    [Theory]
    [InlineData("big")]
    [InlineData("small")]
    public void TheClipResizeMatches(string name)
    {
        var io = SafeTensors.Load(SvdUnetParityTests.Golden("resize.io.safetensors"));
        SvdUnetParityTests.AssertClose(io[name + "_224"], AntialiasedResize.Resize(io[name], 224, 224), 1e-4);
    }

    [Fact]
    public void ThePipelineFolderIsFoundByItsClass()
    {
        Assert.IsType<SvdPipelineFamily>(ModelFamilies.Find(SvdUnetParityTests.Golden("pipeline_tiny")));
    }
}
