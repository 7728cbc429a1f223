using Longshot.Diffusion.Vae;

namespace Longshot.Diffusion.Families;

/// <summary>diffusers' AutoencoderKL layout: the image VAE, and NUWA-XL's temporal KL-VAE (T-KLVAE) when its config
/// says "temporal".</summary>
public sealed class AutoencoderKLFamily : ModelFamily<AutoencoderKL>
{
    /// <inheritdoc/>
    public override string ClassName => "AutoencoderKL";

    /// <inheritdoc/>
    public override string Title => "VAE (AutoencoderKL, or the T-KLVAE)";

    /// <inheritdoc/>
    public override string IndexFile => "config.json";

    /// <inheritdoc/>
    public override AutoencoderKL Load(string folder) => AutoencoderKL.Load(folder);
}
