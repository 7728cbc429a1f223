using System.Text.Json.Serialization;
using Longshot.Tensors;
using Longshot.Tensors.IO;

namespace Longshot.Diffusion.Svd;

/// <summary>
/// The config.json of diffusers' UNetSpatioTemporalConditionModel (Stable Video Diffusion's UNet). Defaults are the
/// class's, which are the published model's; settings that are one value or one per level read as lists
/// (<see cref="PerLevel"/> spreads a single value).
/// </summary>
public sealed record SvdUnetConfig
{
    /// <summary>The diffusers class these folders record.</summary>
    public const string Class = "UNetSpatioTemporalConditionModel";

    private const string CrossDown = "CrossAttnDownBlockSpatioTemporal", PlainDown = "DownBlockSpatioTemporal";
    private const string CrossUp = "CrossAttnUpBlockSpatioTemporal", PlainUp = "UpBlockSpatioTemporal";

    [JsonPropertyName("_class_name")] public string ClassName { get; init; } = Class;
    [JsonPropertyName("sample_size")] public int? SampleSize { get; init; }
    [JsonPropertyName("in_channels")] public int InChannels { get; init; } = 8;
    [JsonPropertyName("out_channels")] public int OutChannels { get; init; } = 4;
    [JsonPropertyName("down_block_types")] public string[] DownBlockTypes { get; init; } =
        { CrossDown, CrossDown, CrossDown, PlainDown };
    [JsonPropertyName("up_block_types")] public string[] UpBlockTypes { get; init; } =
        { PlainUp, CrossUp, CrossUp, CrossUp };
    [JsonPropertyName("block_out_channels")] public int[] BlockOutChannels { get; init; } = { 320, 640, 1280, 1280 };
    [JsonPropertyName("addition_time_embed_dim")] public int AdditionTimeEmbedDim { get; init; } = 256;
    [JsonPropertyName("projection_class_embeddings_input_dim")]
    public int ProjectionClassEmbeddingsInputDim { get; init; } = 768;
    [JsonPropertyName("layers_per_block"), JsonConverter(typeof(IntOrListConverter))]
    public int[] LayersPerBlock { get; init; } = { 2 };
    [JsonPropertyName("cross_attention_dim"), JsonConverter(typeof(IntOrListConverter))]
    public int[] CrossAttentionDim { get; init; } = { 1024 };
    [JsonPropertyName("transformer_layers_per_block"), JsonConverter(typeof(IntOrListConverter))]
    public int[] TransformerLayersPerBlock { get; init; } = { 1 };
    [JsonPropertyName("num_attention_heads"), JsonConverter(typeof(IntOrListConverter))]
    public int[] NumAttentionHeads { get; init; } = { 5, 10, 10, 20 };
    [JsonPropertyName("num_frames")] public int NumFrames { get; init; } = 25;

    /// <summary>ExVideo's extension: frames of the temporal blocks' position tables (null: SVD as published). Not a
    /// diffusers key: set when an extension is loaded onto the model.</summary>
    [JsonIgnore] public int? ExtensionFrames { get; init; }

    /// <summary>Number of resolution levels.</summary>
    [JsonIgnore] public int Levels => BlockOutChannels.Length;

    /// <summary>Width of the time embedding: four times the first level's.</summary>
    [JsonIgnore] public int TimeEmbedDim => BlockOutChannels[0] * 4;

    /// <summary>Number of added time ids (fps - 1, motion bucket id, noise augmentation strength).</summary>
    [JsonIgnore] public int AddedTimeIds => ProjectionClassEmbeddingsInputDim / AdditionTimeEmbedDim;

    /// <summary>Spatial downsampling of the latents inside the UNet.</summary>
    [JsonIgnore] public int DownFactor => 1 << (Levels - 1);

    /// <summary>A per-level setting at level <paramref name="level"/> (a single value applies to all).</summary>
    public static int PerLevel(int[] values, int level) => values.Length == 1 ? values[0] : values[level];

    /// <summary>Whether down level <paramref name="level"/> has attention.</summary>
    public bool DownHasAttention(int level) => DownBlockTypes[level] == CrossDown;

    /// <summary>Whether up level <paramref name="level"/> (0 = the lowest resolution) has attention.</summary>
    public bool UpHasAttention(int level) => UpBlockTypes[level] == CrossUp;

    /// <summary>Checks the settings against each other; a <see cref="LongshotException"/> names the key.</summary>
    public void Validate()
    {
        if (ClassName != Class)
            throw new LongshotException($"_class_name is '{ClassName}', not {Class}.");
        if (Levels < 1 || Levels > 8 || BlockOutChannels.Any(c => c < 32 || c % 32 != 0))
            throw new LongshotException("block_out_channels must be 1 to 8 multiples of 32 (the norms use 32 groups).");
        if (DownBlockTypes.Length != Levels || UpBlockTypes.Length != Levels)
            throw new LongshotException($"down_block_types and up_block_types need {Levels} entries, one per " +
                "block_out_channels.");
        foreach (var t in DownBlockTypes)
            if (t is not (CrossDown or PlainDown))
                throw new LongshotException($"down_block_types: '{t}' is not {CrossDown} or {PlainDown}.");
        foreach (var t in UpBlockTypes)
            if (t is not (CrossUp or PlainUp))
                throw new LongshotException($"up_block_types: '{t}' is not {CrossUp} or {PlainUp}.");
        CheckPerLevel(LayersPerBlock, "layers_per_block", 1);
        CheckPerLevel(CrossAttentionDim, "cross_attention_dim", 1);
        CheckPerLevel(TransformerLayersPerBlock, "transformer_layers_per_block", 1);
        CheckPerLevel(NumAttentionHeads, "num_attention_heads", 1);
        for (int i = 0; i < Levels; i++)
            if (BlockOutChannels[i] % PerLevel(NumAttentionHeads, i) != 0)
                throw new LongshotException($"num_attention_heads: level {i}'s {BlockOutChannels[i]} channels do not " +
                    $"split into {PerLevel(NumAttentionHeads, i)} heads.");
        if (ExtensionFrames is < 1 or > 4096)
            throw new LongshotException("an extension's frame table must have 1 to 4096 frames.");
        if (InChannels < 1 || OutChannels < 1 || NumFrames < 1)
            throw new LongshotException("in_channels, out_channels and num_frames must be positive.");
        if (AdditionTimeEmbedDim < 2 || AdditionTimeEmbedDim % 2 != 0
            || ProjectionClassEmbeddingsInputDim % AdditionTimeEmbedDim != 0)
            throw new LongshotException("projection_class_embeddings_input_dim must be a multiple of the (even) " +
                "addition_time_embed_dim: one embedding per added time id.");
    }

    private void CheckPerLevel(int[] values, string key, int min)
    {
        if (values.Length != 1 && values.Length != Levels)
            throw new LongshotException($"{key} has {values.Length} values; give one, or one per level ({Levels}).");
        if (values.Any(v => v < min)) throw new LongshotException($"{key} values must be at least {min}.");
    }

    /// <summary>Reads and checks a config.json.</summary>
    public static SvdUnetConfig Load(string path) =>
        StrictJson.Load<SvdUnetConfig>(path, "UNetSpatioTemporalConditionModel config", null, c => c.Validate());
}
