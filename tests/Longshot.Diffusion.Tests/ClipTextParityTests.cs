using Longshot.Diffusion.Families;
using Longshot.Tensors.IO;
using Xunit;

namespace Longshot.Diffusion.Tests;

/// <summary>The CLIP text tower in Hugging Face's layout (CLIPTextModel) against DiffSynth's SDTextEncoder through
/// its from_diffusers converter (Golden/t2v/text_encoder_tiny: 64 wide, 4 heads; text_encoder_vith: 1024 wide, 16
/// heads, fp16; GELU as ViT-H/14 has it, every weight random, two rows of 77 token ids).</summary>
public class ClipTextParityTests
{
    private static string Golden(params string[] parts) =>
        Path.Combine(new[] { AppContext.BaseDirectory, "Golden", "t2v" }.Concat(parts).ToArray());

    /// <summary>The tiny tower, and one at OpenCLIP ViT-H/14's real width (1024, 16 heads of 64) read from its fp16
    /// file.</summary>
    [Theory]
    [InlineData("text_encoder_tiny")]
    [InlineData("text_encoder_vith")]
    public void MatchesDiffSynthsTextEncoderThroughItsConverter(string name)
    {
        var folder = Golden(name);
        var io = SafeTensors.Load(Golden(name + ".io.safetensors"));
        // Through the family, as `longshot model run` calls it.
        var family = ModelFamilies.Find(folder)!;
        Assert.IsType<ClipTextFamily>(family);
        var output = family.RunMethod(folder, "forward", io)["sample"];
        SvdUnetParityTests.AssertClose(io["last_hidden_state"], output, 2e-4);
    }
}
