using Longshot.Diffusion.Families;
using Longshot.Diffusion.Unet3D;
using Longshot.Tensors;
using Longshot.Tensors.IO;
using Xunit;

namespace Longshot.Diffusion.Tests;

/// <summary>
/// The text-to-video UNet against diffusers v0.25's UNet3DConditionModel (tools/make_unet3d_golden.py: small
/// configs, every weight random, fp32 and fp16 files, one forward call each; VideoCrafter2's fps embedding as
/// Video-Infinity adds it).
/// </summary>
public class Unet3DParityTests
{
    private static string Golden(params string[] parts) =>
        Path.Combine(new[] { AppContext.BaseDirectory, "Golden", "t2v" }.Concat(parts).ToArray());

    [Theory]
    [InlineData("unet3d_tiny", null)]
    [InlineData("unet3d_tiny", "fp16")]
    [InlineData("unet3d_small", null)]
    [InlineData("unet3d_small", "fp16")]
    [InlineData("unet3d_fps", "fp16")]
    public void MatchesDiffusers(string name, string? variant)
    {
        var folder = Golden(name);
        var family = ModelFamilies.Find(folder);
        Assert.IsType<Unet3DFamily>(family);
        var config = Unet3DConfig.Load(Path.Combine(folder, "config.json"));
        var unet = Unet3DModel.Mapped(config, ComponentWeights.Open(folder, variant: variant));
        var io = SafeTensors.Load(Golden(name + ".io.safetensors"));
        float? fps = io.TryGetValue("fps", out var f) ? f.ToArray()[0] : null;
        using var _ = Tensor.NoGrad();
        var output = unet.Forward(io["sample"], io["timestep"].ToArray()[0], io["encoder_hidden_states"], fps);
        SvdUnetParityTests.AssertClose(io[variant == "fp16" ? "sample_out_fp16" : "sample_out"], output, 2e-4);
    }
}
