using System.Text.Json.Serialization;
using System.Text.Json;
using Longshot.Tensors.IO;
using Longshot.Tensors;

namespace Longshot.Diffusion.Vae;

/// <summary>
/// The config.json of an AutoencoderKL in diffusers' layout, plus the temporal (T-KLVAE) settings. A diffusers
/// config loads as is (the temporal settings then default to off).
/// </summary>
public sealed record AutoencoderKLConfig
{
    [JsonPropertyName("_class_name")] public string ClassName { get; init; } = "AutoencoderKL";
    [JsonPropertyName("in_channels"), JsonRequired] public int InChannels { get; init; } = 3;
    [JsonPropertyName("out_channels"), JsonRequired] public int OutChannels { get; init; } = 3;
    [JsonPropertyName("block_out_channels"), JsonRequired] public int[] BlockOutChannels { get; init; } = { 32, 64,
        64 };
    [JsonPropertyName("layers_per_block"), JsonRequired] public int LayersPerBlock { get; init; } = 1;
    [JsonPropertyName("latent_channels"), JsonRequired] public int LatentChannels { get; init; } = 4;
    [JsonPropertyName("norm_num_groups")] public int NormNumGroups { get; init; } = 32;
    [JsonPropertyName("scaling_factor")] public float ScalingFactor { get; init; } = 0.18215f;
    [JsonPropertyName("act_fn")] public string ActFn { get; init; } = "silu";
    [JsonPropertyName("sample_size")] public int SampleSize { get; init; } = 64;
    [JsonPropertyName("mid_block_add_attention")] public bool MidBlockAddAttention { get; init; } = true;
    [JsonPropertyName("down_block_types")] public string[]? DownBlockTypes { get; init; }
    [JsonPropertyName("up_block_types")] public string[]? UpBlockTypes { get; init; }
    /// <summary>diffusers' hint to run the VAE in float32 under half precision; the engine always does.</summary>
    [JsonPropertyName("force_upcast")] public bool? ForceUpcast { get; init; }

    /// <summary>T-KLVAE: add a temporal conv after each spatial conv and a temporal attention after the spatial
    /// one.</summary>
    [JsonPropertyName("temporal")] public bool Temporal { get; init; }
    [JsonPropertyName("temporal_kernel_size")] public int TemporalKernelSize { get; init; } = 3;
    /// <summary>"identity" (the paper's T-KLVAE) or "random" (the T-KLVAE-R ablation).</summary>
    [JsonPropertyName("temporal_init")] public string TemporalInit { get; init; } = "identity";

    /// <summary>The temporal layers to add after spatial convolutions, or null for an image VAE.</summary>
    [JsonIgnore] public Layers.TemporalSpec? TemporalSpec => Temporal
        ? new Layers.TemporalSpec(TemporalKernelSize, TemporalInit == "identity") : null;

    /// <summary>Spatial downsampling factor: 2^(levels - 1).</summary>
    [JsonIgnore] public int DownFactor => 1 << (BlockOutChannels.Length - 1);

    public void Validate()
    {
        if (BlockOutChannels.Length == 0) throw new LongshotException("VAE config: block_out_channels is empty.");
        if (InChannels < 1 || OutChannels < 1 || LatentChannels < 1 || NormNumGroups < 1 || SampleSize < 1)
            throw new LongshotException("VAE config: in_channels, out_channels, latent_channels, norm_num_groups and " +
                                        "sample_size must be positive.");
        if (BlockOutChannels.Length > 12 || BlockOutChannels.Any(c => c < 1 || c > 65536))
            throw new LongshotException("VAE config: block_out_channels must be 1 to 12 values between 1 and 65536.");
        if (!float.IsFinite(ScalingFactor) || ScalingFactor <= 0)
            throw new LongshotException($"VAE config: scaling_factor must be a positive number, got {ScalingFactor}.");
        foreach (var c in BlockOutChannels)
            if (c % NormNumGroups != 0)
                throw new LongshotException($"VAE config: {c} channels are not divisible by norm_num_groups = " +
                $"{NormNumGroups}.");
        if (LayersPerBlock < 1) throw new LongshotException("VAE config: layers_per_block must be >= 1.");
        if (ActFn != "silu") throw new LongshotException($"VAE config: act_fn '{ActFn}' is not supported (silu).");
        if (TemporalKernelSize % 2 == 0) throw new LongshotException("VAE config: temporal_kernel_size must be odd.");
        if (TemporalInit is not ("identity" or "random"))
            throw new LongshotException($"VAE config: temporal_init must be identity or random, got '{TemporalInit}'.");
        if (DownBlockTypes != null && DownBlockTypes.Any(t => t != "DownEncoderBlock2D"))
            throw new LongshotException("VAE config: only DownEncoderBlock2D down blocks are supported.");
        if (UpBlockTypes != null && UpBlockTypes.Any(t => t != "UpDecoderBlock2D"))
            throw new LongshotException("VAE config: only UpDecoderBlock2D up blocks are supported.");
    }

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static AutoencoderKLConfig FromJson(string json, string source) =>
        StrictJson.Parse<AutoencoderKLConfig>(json, source, "VAE config", Json, c => c.Validate());

    public static AutoencoderKLConfig Load(string path) => File.Exists(path) ? FromJson(File.ReadAllText(path), path)
        : throw new LongshotException($"{path}: VAE config not found.");

    /// <summary>Writes config.json with the block types spelled out, as diffusers expects them.</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, (this with
    {
        DownBlockTypes = DownBlockTypes ?? Enumerable.Repeat("DownEncoderBlock2D", BlockOutChannels.Length).ToArray(),
        UpBlockTypes = UpBlockTypes ?? Enumerable.Repeat("UpDecoderBlock2D", BlockOutChannels.Length).ToArray(),
    }).ToJson());
}
