using Longshot.Diffusion.Svd;
using Longshot.Tensors;
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

    /// <inheritdoc/>
    public override IReadOnlyList<string> ModelMethods => new[] { "forward" };

    /// <summary>forward: sample [B, F, C, H, W], timestep, encoder_hidden_states [B, L, C], added_time_ids [B, 3].
    /// </summary>
    public override IReadOnlyDictionary<string, Tensor> RunMethod(string folder, string method,
        IReadOnlyDictionary<string, Tensor> inputs)
    {
        if (method != "forward") return base.RunMethod(folder, method, inputs);
        var unet = Load(folder);
        using var _ = Tensor.NoGrad();
        return new Dictionary<string, Tensor>
        {
            ["sample"] = unet.Forward(Input(inputs, "sample", method), Scalar(inputs, "timestep", method),
                Input(inputs, "encoder_hidden_states", method), Input(inputs, "added_time_ids", method)),
        };
    }
}
