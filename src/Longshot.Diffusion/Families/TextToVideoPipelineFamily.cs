using Longshot.Diffusion.TextToVideo;

namespace Longshot.Diffusion.Families;

/// <summary>A text-to-video folder as published (damo-vilab/text-to-video-ms-1.7b, cerspense/zeroscope_v2_576w, and
/// VideoCrafter2 in Video-Infinity's diffusers port): model_index.json naming TextToVideoSDPipeline (or
/// VideoCrafterPipeline) and its unet/, vae/, text_encoder/, tokenizer/ and scheduler/ folders.</summary>
public sealed class TextToVideoPipelineFamily : ModelFamily<TextToVideoPipeline>
{
    /// <inheritdoc/>
    public override string ClassName => TextToVideoPipeline.Class;

    /// <inheritdoc/>
    public override bool Loads(string className) =>
        className is TextToVideoPipeline.Class or TextToVideoPipeline.VideoCrafterClass;

    /// <inheritdoc/>
    public override string Title => "text-to-video model (ModelScope, zeroscope, VideoCrafter2)";

    /// <inheritdoc/>
    public override string IndexFile => "model_index.json";

    /// <inheritdoc/>
    public override TextToVideoPipeline Load(string folder) => TextToVideoPipeline.Load(folder);

    /// <inheritdoc/>
    public override string Runs => "text-to-video generation from a prompt or a storyline; each component folder " +
        "on its own";
}
