using Longshot.Diffusion.Families;
using Longshot.Tensors.IO;
using Xunit;

namespace Longshot.Diffusion.Tests;

/// <summary>The CLIP text tower in Hugging Face's layout (CLIPTextModel) against DiffSynth's SDTextEncoder through
/// its from_diffusers converter (Golden/t2v/text_encoder_tiny: 64 wide, 4 heads, GELU as ViT-H/14 has it, every
/// weight random, two rows of 77 token ids).</summary>
public class ClipTextParityTests
{
    private static string Golden(params string[] parts) =>
        Path.Combine(new[] { AppContext.BaseDirectory, "Golden", "t2v" }.Concat(parts).ToArray());

    [Fact]
    public void MatchesDiffSynthsTextEncoderThroughItsConverter()
    {
        var folder = Golden("text_encoder_tiny");
        var io = SafeTensors.Load(Golden("text_encoder_tiny.io.safetensors"));
        // Through the family, as `longshot model run` calls it.
        var family = ModelFamilies.Find(folder)!;
        Assert.IsType<ClipTextFamily>(family);
        var output = family.RunMethod(folder, "forward", io)["sample"];
        SvdUnetParityTests.AssertClose(io["last_hidden_state"], output, 2e-4);
    }
}
