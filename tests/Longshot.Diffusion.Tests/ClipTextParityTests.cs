using Longshot.Diffusion.Clip;
using Longshot.Tensors;
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
        var model = ClipTextModel.Mapped(ClipTextConfig.Load(Path.Combine(folder, "config.json")),
            ComponentWeights.Open(folder, "model"));
        var io = SafeTensors.Load(Golden("text_encoder_tiny.io.safetensors"));
        var flat = io["input_ids"].ToArray();
        var ids = Enumerable.Range(0, 2).Select(r => flat.Skip(r * 77).Take(77).Select(v => (int)v).ToArray())
            .ToArray();
        using var _ = Tensor.NoGrad();
        SvdUnetParityTests.AssertClose(io["last_hidden_state"], model.Forward(ids), 2e-4);
    }
}
