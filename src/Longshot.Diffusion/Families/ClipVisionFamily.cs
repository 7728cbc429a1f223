using Longshot.Diffusion.Clip;
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
}
