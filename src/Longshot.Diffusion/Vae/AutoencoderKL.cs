using Longshot.Tensors;
using Longshot.Tensors.IO;
using Longshot.Tensors.Nn;

namespace Longshot.Diffusion.Vae;

/// <summary>
/// The KL-VAE of Stable Diffusion with diffusers' architecture and parameter names; with <c>temporal</c> set in the
/// config it is NUWA-XL's T-KLVAE (temporal convs and attention that start as the identity). Images are
/// [N, 3, H, W] in [-1, 1]; a video batch is N = videos x frames images, with <c>frames</c> passed along.
/// </summary>
public sealed class AutoencoderKL : Module
{
    public const string WeightsFile = "diffusion_pytorch_model.safetensors";

    public AutoencoderKLConfig Config { get; }
    public ParameterStore Parameters { get; }
    public VaeEncoder Encoder { get; }
    public VaeDecoder Decoder { get; }
    private readonly Conv2d _quant, _postQuant;

    private AutoencoderKL(AutoencoderKLConfig cfg, ParameterStore store, VarBuilder vb)
    {
        cfg.Validate();
        Config = cfg; Parameters = store;
        Encoder = Child(new VaeEncoder(vb.Pp("encoder"), cfg));
        Decoder = Child(new VaeDecoder(vb.Pp("decoder"), cfg));
        _quant = Child(new Conv2d(vb.Pp("quant_conv"), 2 * cfg.LatentChannels, 2 * cfg.LatentChannels, 1));
        _postQuant = Child(new Conv2d(vb.Pp("post_quant_conv"), cfg.LatentChannels, cfg.LatentChannels, 1));
    }

    /// <summary>A freshly initialised model.</summary>
    public static AutoencoderKL Create(AutoencoderKLConfig cfg, ulong seed = 0)
    {
        var store = new ParameterStore();
        return new AutoencoderKL(cfg, store, VarBuilder.Fresh(store, seed));
    }

    /// <summary>Throws a one-line <see cref="LongshotException"/> unless <paramref name="folder"/> exists and holds
    /// a config.json (the cheap check, before any file is read).</summary>
    public static void RequireFolder(string folder)
    {
        if (!Directory.Exists(folder)) throw new LongshotException($"model folder not found: {folder}");
        if (!File.Exists(Path.Combine(folder, "config.json")))
            throw new LongshotException($"{folder} has no config.json: not a diffusers model folder.");
    }

    /// <summary>
    /// Loads a model folder (config.json + diffusion_pytorch_model.safetensors, diffusers layout). With
    /// <paramref name="config"/> given, that architecture is built instead and weights are matched by name: loading
    /// an image VAE into a temporal config keeps the temporal layers at their initialisation (strict=false).
    /// </summary>
    public static AutoencoderKL Load(string folder, AutoencoderKLConfig? config = null, bool strict = true,
        ulong seed = 0)
    {
        RequireFolder(folder);
        var cfgPath = Path.Combine(folder, "config.json");
        var cfg = config ?? AutoencoderKLConfig.Load(cfgPath);
        var model = Create(cfg, seed);
        var weights = Path.Combine(folder, WeightsFile);
        model.Parameters.Load(SafeTensors.Load(weights), strict, weights);
        return model;
    }

    /// <summary>A published image VAE over <paramref name="weights"/> (any stored type, any variant), read in place;
    /// a tensor the model does not use is an error naming the file and the key.</summary>
    public static AutoencoderKL Mapped(AutoencoderKLConfig config, SafeTensorsSet weights)
    {
        var store = new ParameterStore();
        var model = new AutoencoderKL(config, store, VarBuilder.Mapped(store, weights));
        MappedModel.RequireAllUsed(weights, store, "AutoencoderKL");
        return model;
    }

    /// <summary>Saves config.json and the weights (diffusers layout) into a folder, each file atomically.</summary>
    public void Save(string folder, DType dtype = DType.F32)
    {
        Directory.CreateDirectory(folder);
        Parameters.Save(Path.Combine(folder, WeightsFile), dtype, new Dictionary<string, string> { ["format"] = "pt" });
        Config.Save(Path.Combine(folder, "config.json"));
    }

    /// <summary>The latent distribution of images x: [N, 3, H, W] (H and W divisible by the down factor).</summary>
    public DiagonalGaussian Encode(Tensor x, int frames = 1)
    {
        if (x.Rank != 4 || x.Shape[1] != Config.InChannels)
            throw new LongshotException($"VAE encode: expected [N, {Config.InChannels}, H, W], got {x}.");
        if (x.Shape[2] % Config.DownFactor != 0 || x.Shape[3] % Config.DownFactor != 0)
            throw new LongshotException($"VAE encode: size {x.Shape[2]}x{x.Shape[3]} is not divisible by the down " +
                $"factor {Config.DownFactor}.");
        return DiagonalGaussian.FromMoments(_quant.Forward(Encoder.Forward(x, frames)));
    }

    /// <summary>Images from latents z: [N, latent, h, w].</summary>
    public Tensor Decode(Tensor z, int frames = 1)
    {
        if (z.Rank != 4 || z.Shape[1] != Config.LatentChannels)
            throw new LongshotException($"VAE decode: expected [N, {Config.LatentChannels}, h, w], got {z}.");
        return Decoder.Forward(_postQuant.Forward(z), frames);
    }

    /// <summary>Names of the temporal layers' parameters (what stage-2 training updates).</summary>
    /// <summary>Side of the latent grid of a <see cref="AutoencoderKLConfig.SampleSize"/> frame.</summary>
    public int LatentSize => Config.SampleSize / Config.DownFactor;

    /// <summary>Latents as the diffusion models see them: latent means times scaling_factor (the one place it is
    /// applied).</summary>
    public Tensor ScaleLatents(Tensor z) => z * Config.ScalingFactor;

    /// <summary>The inverse of <see cref="ScaleLatents"/>: diffusion latents back to what the decoder takes.</summary>
    public Tensor UnscaleLatents(Tensor latents) => latents * (1f / Config.ScalingFactor);

    /// <summary>Whether a parameter belongs to the decoder side (post-quantisation conv and decoder).</summary>
    public static bool IsDecoder(string name) => name.StartsWith("decoder.", StringComparison.Ordinal)
        || name.StartsWith("post_quant_conv.", StringComparison.Ordinal);

    public static bool IsTemporal(string name) => name.Contains("_temporal.") || name.Contains("temporal_attentions.");
}
