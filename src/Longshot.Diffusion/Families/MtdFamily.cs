using Longshot.Diffusion.Pipelines;

namespace Longshot.Diffusion.Families;

/// <summary>Longshot's Mask Temporal Diffusion models (NUWA-XL's Mask 3D-UNet with its text encoder, tokenizer and
/// noise schedule): the global, local, base and extended Toonworld models.</summary>
public sealed class MtdFamily : ModelFamily<MtdPipelineParts>
{
    /// <inheritdoc/>
    public override string ClassName => "MaskUNet3DModel";

    /// <inheritdoc/>
    public override string Title => "Mask Temporal Diffusion model (NUWA-XL)";

    /// <inheritdoc/>
    public override string IndexFile => "model_index.json";

    /// <inheritdoc/>
    public override MtdPipelineParts Load(string folder) => MtdPipelineParts.Load(folder);

    /// <inheritdoc/>
    public override string Runs => "long-video generation (as the global, local or extended model) and training";
}
