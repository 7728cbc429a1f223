using Longshot.Diffusion.Clip;
using Longshot.Tensors;
using Longshot.Tensors.IO;

namespace Longshot.Diffusion.Families;

/// <summary>A CLIP image encoder folder in Hugging Face's layout (image_encoder/ of Stable Video Diffusion):
/// config.json naming CLIPVisionModelWithProjection and model.safetensors (or a variant), read in place.</summary>
public sealed class ClipVisionFamily : ModelFamily<ClipVisionModel>
{
    /// <inheritdoc/>
    public override string ClassName => ClipVisionConfig.Class;

    /// <inheritdoc/>
    public override string Title => "CLIP image encoder";

    /// <inheritdoc/>
    public override string IndexFile => "config.json";

    /// <inheritdoc/>
    public override ClipVisionModel Load(string folder) => ClipVisionModel.Mapped(
        ClipVisionConfig.Load(Path.Combine(folder, IndexFile)), ComponentWeights.Open(folder, "model"));

    /// <inheritdoc/>
    public override IReadOnlyList<string> ModelMethods => new[] { "forward" };

    /// <summary>forward: pixel_values [B, 3, S, S] (normalised) to image_embeds (sample).</summary>
    public override IReadOnlyDictionary<string, Tensor> RunMethod(string folder, string method,
        IReadOnlyDictionary<string, Tensor> inputs)
    {
        if (method != "forward") return base.RunMethod(folder, method, inputs);
        var encoder = Load(folder);
        using var _ = Tensor.NoGrad();
        return new Dictionary<string, Tensor> { ["sample"] = encoder.Forward(Input(inputs, "pixel_values", method)) };
    }
}
