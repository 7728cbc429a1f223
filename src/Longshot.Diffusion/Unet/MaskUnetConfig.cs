using System.Text.Json.Serialization;
using System.Text.Json;
using Longshot.Tensors.IO;
using Longshot.Tensors;

namespace Longshot.Diffusion.Unet;

/// <summary>config.json of the Mask 3D-UNet (MTD). Names follow diffusers' UNet configs where they overlap.</summary>
public sealed record MaskUnetConfig
{
    [JsonPropertyName("_class_name")] public string ClassName { get; init; } = "MaskUNet3DModel";
    [JsonPropertyName("in_channels"), JsonRequired] public int InChannels { get; init; } = 4;
    [JsonPropertyName("out_channels"), JsonRequired] public int OutChannels { get; init; } = 4;
    [JsonPropertyName("block_out_channels"), JsonRequired] public int[] BlockOutChannels { get; init; } = { 32, 64 };
    [JsonPropertyName("layers_per_block"), JsonRequired] public int LayersPerBlock { get; init; } = 1;
    /// <summary>Whether each level has the attention stack (spatial, prompt cross- and temporal attention).</summary>
    [JsonPropertyName("attention_levels"), JsonRequired] public bool[] AttentionLevels { get; init; } = { true, true };
    [JsonPropertyName("attention_heads"), JsonRequired] public int Heads { get; init; } = 4;
    [JsonPropertyName("cross_attention_dim"), JsonRequired] public int CrossAttentionDim { get; init; } = 128;
    [JsonPropertyName("norm_num_groups"), JsonRequired] public int NormNumGroups { get; init; } = 32;
    [JsonPropertyName("temporal_kernel_size"), JsonRequired] public int TemporalKernelSize { get; init; } = 3;
    /// <summary>MI: inject the visual condition at every resolution (else only at the highest).</summary>
    [JsonPropertyName("multi_scale_injection"), JsonRequired] public bool MultiScaleInjection { get; init; } = true;
    /// <summary>SI: inject in down blocks as well as up blocks (else up blocks only).</summary>
    [JsonPropertyName("symmetric_injection"), JsonRequired] public bool SymmetricInjection { get; init; } = true;
    /// <summary>Signed log buckets of frame distance for the temporal attention's relative position bias.</summary>
    [JsonPropertyName("relative_position_buckets"), JsonRequired] public int RelativeBuckets { get; init; } = 32;
    [JsonPropertyName("max_relative_distance"), JsonRequired] public int MaxRelativeDistance { get; init; } = 4096;
    /// <summary>SVD-style absolute frame-index embedding (sinusoid, then an MLP) in every temporal block.</summary>
    [JsonPropertyName("frame_position_embedding")] public bool FramePositionEmbedding { get; init; }
    /// <summary>ExVideo: a trainable frame position table of this many rows in every temporal block (0:
    /// none).</summary>
    [JsonPropertyName("frame_position_table")] public int FramePositionTable { get; init; }
    /// <summary>ExVideo: an identity-initialised 3x3x3 convolution before every temporal attention.</summary>
    [JsonPropertyName("temporal_adapter")] public bool TemporalAdapter { get; init; }
    /// <summary>Frames per model call (L) the model was trained for; generation refuses another L (null: not
    /// recorded, as in folders written before it was).</summary>
    [JsonPropertyName("num_frames")] public int? NumFrames { get; init; }

    public void Validate()
    {
        if (BlockOutChannels.Length == 0) throw new LongshotException("UNet config: block_out_channels is empty.");
        if (InChannels < 1 || OutChannels < 1 || LayersPerBlock < 1 || CrossAttentionDim < 1 || Heads < 1
            || NormNumGroups < 1)
            throw new LongshotException("UNet config: in_channels, out_channels, layers_per_block, " +
                "cross_attention_dim, " +
                                        "attention_heads and norm_num_groups must be positive.");
        if (BlockOutChannels.Any(c => c < 1 || c > 65536))
            throw new LongshotException("UNet config: block_out_channels must be between 1 and 65536.");
        if (TemporalKernelSize < 1 || TemporalKernelSize % 2 == 0)
            throw new LongshotException("UNet config: temporal_kernel_size must be odd and positive.");
        if (MaxRelativeDistance < 1)
            throw new LongshotException("UNet config: max_relative_distance must be positive.");
        if (AttentionLevels.Length != BlockOutChannels.Length)
            throw new LongshotException("UNet config: attention_levels needs one entry per level.");
        foreach (var c in BlockOutChannels)
        {
            if (c % NormNumGroups != 0)
                throw new LongshotException($"UNet config: {c} channels are not divisible by norm_num_groups = " +
                $"{NormNumGroups}.");
            if (c % Heads != 0)
                throw new LongshotException($"UNet config: {c} channels are not divisible by {Heads} heads.");
        }
        if (NumFrames is < 1 or > 65536)
            throw new LongshotException("UNet config: num_frames must be between 1 and 65536.");
        if (FramePositionTable < 0 || FramePositionTable > 65536)
            throw new LongshotException("UNet config: frame_position_table must be between 0 and 65536.");
        if (FramePositionEmbedding && FramePositionTable > 0)
            throw new LongshotException("UNet config: frame_position_embedding and frame_position_table exclude each " +
                "other (the table replaces the embedding).");
        if (RelativeBuckets < 4 || RelativeBuckets % 2 != 0)
            throw new LongshotException("UNet config: relative_position_buckets must be even and >= 4.");
    }

    /// <summary>Whether the visual condition is injected at a level, in a down (or up) block.</summary>
    public bool Injects(int level, bool down) => (MultiScaleInjection || level == 0) && (SymmetricInjection || !down);

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };
    public string ToJson() => JsonSerializer.Serialize(this, Json);
    public void Save(string path) => AtomicFile.WriteAllText(path, ToJson());

    public static MaskUnetConfig Load(string path) =>
        StrictJson.Load<MaskUnetConfig>(path, "UNet config", Json, c => c.Validate());
}
