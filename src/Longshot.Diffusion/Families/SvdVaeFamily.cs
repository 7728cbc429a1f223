using Longshot.Diffusion.Svd;
using Longshot.Tensors.IO;

namespace Longshot.Diffusion.Families;

/// <summary>Stable Video Diffusion's VAE folder (vae/ of the published repositories): config.json and its weights in
/// any stored type, read in place.</summary>
public sealed class SvdVaeFamily : ModelFamily<SvdVae>
{
    /// <inheritdoc/>
    public override string ClassName => SvdVaeConfig.Class;

    /// <inheritdoc/>
    public override string Title => "Stable Video Diffusion VAE (temporal decoder)";

    /// <inheritdoc/>
    public override string IndexFile => "config.json";

    /// <inheritdoc/>
    public override SvdVae Load(string folder) =>
        SvdVae.Mapped(SvdVaeConfig.Load(Path.Combine(folder, IndexFile)), ComponentWeights.Open(folder));
}
