using Longshot.Diffusion.Svd;
using Longshot.Tensors;
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

    /// <inheritdoc/>
    public override IReadOnlyList<string> ModelMethods => new[] { "encode", "decode" };

    /// <summary>encode: sample [N, 3, H, W] in [-1, 1] to the latent mean (sample) and logvar; decode: z [B*F, C, h,
    /// w] and num_frames to images (sample).</summary>
    public override IReadOnlyDictionary<string, Tensor> RunMethod(string folder, string method,
        IReadOnlyDictionary<string, Tensor> inputs)
    {
        if (method is not ("encode" or "decode")) return base.RunMethod(folder, method, inputs);
        var vae = Load(folder);
        using var _ = Tensor.NoGrad();
        if (method == "encode")
        {
            var dist = vae.Encode(Input(inputs, "sample", method));
            return new Dictionary<string, Tensor> { ["sample"] = dist.Mean, ["logvar"] = dist.LogVar };
        }
        float frames = Scalar(inputs, "num_frames", method);
        if (frames < 1 || frames != MathF.Floor(frames))
            throw new SettingException("Inputs", $"decode: num_frames must be a whole number >= 1, got {frames}.");
        return new Dictionary<string, Tensor> { ["sample"] = vae.Decode(Input(inputs, "z", method), (int)frames) };
    }
}
