using Longshot.Diffusion.Families;
using Longshot.Diffusion.Svd;
using Longshot.Tensors;
using Longshot.Tensors.IO;
using Xunit;

namespace Longshot.Diffusion.Tests;

/// <summary>Stable Video Diffusion's VAE (AutoencoderKLTemporalDecoder) against diffusers v0.25 on a small random
/// model (Golden/svd/pipeline_tiny/vae): the image encoder's distribution and the temporal decoder over 3-frame
/// videos.</summary>
public class SvdVaeParityTests
{
    private static readonly Lazy<SvdVae> Vae =
        new(() => ModelFamilies.Load<SvdVae>(SvdUnetParityTests.Golden("pipeline_tiny", "vae")));
    private static readonly Lazy<Dictionary<string, Tensor>> Io =
        new(() => SafeTensors.Load(SvdUnetParityTests.Golden("vae_tiny.io.safetensors")));

    [Fact]
    public void EncodesAsDiffusers()
    {
        using var _ = Tensor.NoGrad();
        var dist = Vae.Value.Encode(Io.Value["image"]);
        SvdUnetParityTests.AssertClose(Io.Value["mean"], dist.Mean, 2e-4);
        SvdUnetParityTests.AssertClose(Io.Value["logvar"], dist.LogVar, 2e-4);
    }

    [Fact]
    public void DecodesAsDiffusers()
    {
        using var _ = Tensor.NoGrad();
        SvdUnetParityTests.AssertClose(Io.Value["decoded"], Vae.Value.Decode(Io.Value["z"], 3), 2e-4);
    }
}
