using Longshot.Diffusion.Clip;
using Longshot.Diffusion.Families;
using Longshot.Tensors;
using Longshot.Tensors.IO;
using Xunit;

namespace Longshot.Diffusion.Tests;

/// <summary>The CLIP image encoder in Hugging Face's layout against DiffSynth's SVDImageEncoder, loaded through its
/// own converter from that layout (Golden/svd/image_encoder_tiny: 224x224 images, patch 14, every weight
/// random).</summary>
public class ClipVisionParityTests
{
    [Fact]
    public void MatchesDiffSynthsEncoderThroughItsConverter()
    {
        var encoder = ModelFamilies.Load<ClipVisionModel>(SvdUnetParityTests.Golden("pipeline_tiny", "image_encoder"));
        var io = SafeTensors.Load(SvdUnetParityTests.Golden("image_encoder_tiny.io.safetensors"));
        using var _ = Tensor.NoGrad();
        SvdUnetParityTests.AssertClose(io["image_embeds"], encoder.Forward(io["pixel_values"]), 2e-4);
    }

    [Fact]
    public void AConfigKeyItDoesNotKnowIsNamed()
    {
        var dir = Directory.CreateTempSubdirectory("longshot-clip-").FullName;
        var config = File.ReadAllText(SvdUnetParityTests.Golden("pipeline_tiny", "image_encoder", "config.json"));
        File.WriteAllText(Path.Combine(dir, "config.json"), config.Replace("\"dropout\"", "\"rope_theta\""));
        var e = Assert.ThrowsAny<LongshotException>(() => ModelFamilies.Load<ClipVisionModel>(dir));
        Assert.Contains("rope_theta", e.Message);
        Assert.Contains("config.json", e.Message);
    }
}
