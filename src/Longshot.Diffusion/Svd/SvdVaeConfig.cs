using System.Text.Json;
using System.Text.Json.Serialization;
using Longshot.Diffusion.Vae;
using Longshot.Tensors;
using Longshot.Tensors.IO;

namespace Longshot.Diffusion.Svd;

/// <summary>The config.json of diffusers' AutoencoderKLTemporalDecoder (Stable Video Diffusion's VAE); defaults are
/// the class's.</summary>
public sealed record SvdVaeConfig
{
    /// <summary>The diffusers class these folders record.</summary>
    public const string Class = "AutoencoderKLTemporalDecoder";

    [JsonPropertyName("_class_name")] public string ClassName { get; init; } = Class;
    [JsonPropertyName("in_channels")] public int InChannels { get; init; } = 3;
    [JsonPropertyName("out_channels")] public int OutChannels { get; init; } = 3;
    [JsonPropertyName("down_block_types")] public string[] DownBlockTypes { get; init; } = { "DownEncoderBlock2D" };
    [JsonPropertyName("block_out_channels")] public int[] BlockOutChannels { get; init; } = { 64 };
    [JsonPropertyName("layers_per_block")] public int LayersPerBlock { get; init; } = 1;
    [JsonPropertyName("latent_channels")] public int LatentChannels { get; init; } = 4;
    /// <summary>Training image size (one number or [height, width]); not used for inference.</summary>
    [JsonPropertyName("sample_size")] public JsonElement? SampleSize { get; init; }
    [JsonPropertyName("scaling_factor")] public float ScalingFactor { get; init; } = 0.18215f;
    /// <summary>diffusers' hint to run the VAE in float32; the engine always computes in float32.</summary>
    [JsonPropertyName("force_upcast")] public bool ForceUpcast { get; init; } = true;

    /// <summary>Spatial downsampling factor: 2^(levels - 1).</summary>
    [JsonIgnore] public int DownFactor => 1 << (BlockOutChannels.Length - 1);

    /// <summary>The image encoder's settings, as the AutoencoderKL encoder it shares reads them.</summary>
    [JsonIgnore] public AutoencoderKLConfig EncoderConfig => new()
    {
        InChannels = InChannels, OutChannels = OutChannels, BlockOutChannels = BlockOutChannels,
        LayersPerBlock = LayersPerBlock, LatentChannels = LatentChannels, NormNumGroups = 32,
        ScalingFactor = ScalingFactor,
    };

    /// <summary>Checks the settings; a <see cref="LongshotException"/> names the key.</summary>
    public void Validate()
    {
        if (ClassName != Class) throw new LongshotException($"_class_name is '{ClassName}', not {Class}.");
        if (BlockOutChannels.Length < 1 || BlockOutChannels.Length > 8 || BlockOutChannels.Any(c => c < 32
            || c % 32 != 0))
            throw new LongshotException("block_out_channels must be 1 to 8 multiples of 32 (the norms use 32 groups).");
        if (DownBlockTypes.Length != BlockOutChannels.Length || DownBlockTypes.Any(t => t != "DownEncoderBlock2D"))
            throw new LongshotException("down_block_types must be DownEncoderBlock2D, one per block_out_channels.");
        if (InChannels < 1 || OutChannels < 1 || LatentChannels < 1 || LayersPerBlock < 1)
            throw new LongshotException("in_channels, out_channels, latent_channels and layers_per_block must be " +
                "positive.");
        if (!float.IsFinite(ScalingFactor) || ScalingFactor <= 0)
            throw new LongshotException($"scaling_factor must be a positive number, got {ScalingFactor}.");
    }

    /// <summary>Reads and checks a config.json.</summary>
    public static SvdVaeConfig Load(string path) =>
        StrictJson.Load<SvdVaeConfig>(path, "AutoencoderKLTemporalDecoder config", null, c => c.Validate());
}
