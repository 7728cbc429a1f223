using Longshot.Diffusion.Svd;

namespace Longshot.Diffusion.Families;

/// <summary>A Stable Video Diffusion folder as published (stabilityai/stable-video-diffusion-img2vid and -xt):
/// model_index.json naming StableVideoDiffusionPipeline and its unet/, vae/, image_encoder/, scheduler/ and
/// feature_extractor/ folders.</summary>
public sealed class SvdPipelineFamily : ModelFamily<SvdPipeline>
{
    /// <inheritdoc/>
    public override string ClassName => SvdPipeline.Class;

    /// <inheritdoc/>
    public override string Title => "Stable Video Diffusion image-to-video model";

    /// <inheritdoc/>
    public override string IndexFile => "model_index.json";

    /// <inheritdoc/>
    public override SvdPipeline Load(string folder) => SvdPipeline.Load(folder);

    /// <inheritdoc/>
    public override string Runs => "image-to-video generation from a first frame; each component folder on its own";
}
