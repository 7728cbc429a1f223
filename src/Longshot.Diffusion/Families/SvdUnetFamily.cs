using Longshot.Diffusion.Svd;
using Longshot.Tensors.IO;

namespace Longshot.Diffusion.Families;

/// <summary>Stable Video Diffusion's UNet folder (unet/ of stabilityai/stable-video-diffusion-img2vid and -xt):
/// config.json and its weights in any stored type, read in place.</summary>
public sealed class SvdUnetFamily : ModelFamily<SvdUnet>
{
    /// <inheritdoc/>
    public override string ClassName => SvdUnetConfig.Class;

    /// <inheritdoc/>
    public override string Title => "Stable Video Diffusion UNet";

    /// <inheritdoc/>
    public override string IndexFile => "config.json";

    /// <inheritdoc/>
    public override SvdUnet Load(string folder) =>
        SvdUnet.Mapped(SvdUnetConfig.Load(Path.Combine(folder, IndexFile)), ComponentWeights.Open(folder));
}
