using System.Text.Json.Serialization;
using Longshot.Tensors;
using Longshot.Tensors.IO;

namespace Longshot.Diffusion.Unet3D;

/// <summary>
/// The config.json of diffusers' UNet3DConditionModel (ModelScope's text-to-video-ms-1.7b, zeroscope), with
/// VideoCrafter2's <c>fps_cond</c> as Video-Infinity's diffusers port records it. Defaults are the class's.
/// <c>attention_head_dim</c> is the width of every attention head: diffusers turns it into a head count for the
/// blocks and passes channels / count positionally as the blocks' head count (a naming slip it keeps), so a level of
/// C channels has C / attention_head_dim heads; the input temporal transformer has 8 heads of that width.
/// </summary>
public sealed record Unet3DConfig
{
    /// <summary>The diffusers class these folders record.</summary>
    public const string Class = "UNet3DConditionModel";

    /// <summary>The class name of VideoCrafter2's UNet in Video-Infinity's port, read as this one with an fps
    /// embedding.</summary>
    public const string VideoCrafterClass = "UNetVideoCrafter";

    internal const string CrossDown = "CrossAttnDownBlock3D", PlainDown = "DownBlock3D";
    internal const string CrossUp = "CrossAttnUpBlock3D", PlainUp = "UpBlock3D";

    [JsonPropertyName("_class_name")] public string ClassName { get; init; } = Class;
    [JsonPropertyName("sample_size")] public int? SampleSize { get; init; }
    [JsonPropertyName("in_channels")] public int InChannels { get; init; } = 4;
    [JsonPropertyName("out_channels")] public int OutChannels { get; init; } = 4;
    [JsonPropertyName("down_block_types")] public string[] DownBlockTypes { get; init; } =
        { CrossDown, CrossDown, CrossDown, PlainDown };
    [JsonPropertyName("up_block_types")] public string[] UpBlockTypes { get; init; } =
        { PlainUp, CrossUp, CrossUp, CrossUp };
    [JsonPropertyName("block_out_channels")] public int[] BlockOutChannels { get; init; } = { 320, 640, 1280, 1280 };
    [JsonPropertyName("layers_per_block")] public int LayersPerBlock { get; init; } = 2;
    [JsonPropertyName("downsample_padding")] public int DownsamplePadding { get; init; } = 1;
    [JsonPropertyName("mid_block_scale_factor")] public float MidBlockScaleFactor { get; init; } = 1;
    [JsonPropertyName("act_fn")] public string ActFn { get; init; } = "silu";
    [JsonPropertyName("norm_num_groups")] public int NormNumGroups { get; init; } = 32;
    [JsonPropertyName("norm_eps")] public float NormEps { get; init; } = 1e-5f;
    [JsonPropertyName("cross_attention_dim")] public int CrossAttentionDim { get; init; } = 1024;
    [JsonPropertyName("attention_head_dim")] public int AttentionHeadDim { get; init; } = 64;
    [JsonPropertyName("num_attention_heads")] public int? NumAttentionHeads { get; init; }

    /// <summary>VideoCrafter2: the frame rate's sinusoidal features through an MLP are added to the time
    /// embedding.</summary>
    [JsonPropertyName("fps_cond")] public bool FpsCond { get; init; }

    /// <summary>Number of resolution levels.</summary>
    [JsonIgnore] public int Levels => BlockOutChannels.Length;

    /// <summary>Width of the time embedding: four times the first level's.</summary>
    [JsonIgnore] public int TimeEmbedDim => BlockOutChannels[0] * 4;

    /// <summary>Heads of the spatial and temporal attention of a block <paramref name="channels"/> wide.</summary>
    public int HeadsAt(int channels) => channels / AttentionHeadDim;

    /// <summary>Heads of the input temporal transformer, each <see cref="AttentionHeadDim"/> wide.</summary>
    public const int InputTemporalHeads = 8;

    /// <summary>Whether the folder's model has VideoCrafter2's fps embedding.</summary>
    [JsonIgnore] public bool HasFps => FpsCond || ClassName == VideoCrafterClass;

    /// <summary>Whether down level <paramref name="level"/> has attention.</summary>
    public bool DownHasAttention(int level) => DownBlockTypes[level] == CrossDown;

    /// <summary>Whether up level <paramref name="level"/> (0 = the lowest resolution) has attention.</summary>
    public bool UpHasAttention(int level) => UpBlockTypes[level] == CrossUp;

    /// <summary>Checks the settings against each other; a <see cref="LongshotException"/> names the key.</summary>
    public void Validate()
    {
        if (ClassName is not (Class or VideoCrafterClass))
            throw new LongshotException($"_class_name is '{ClassName}', not {Class}.");
        if (NumAttentionHeads != null)
            throw new LongshotException("num_attention_heads must be null: diffusers' UNet3DConditionModel takes the " +
                "heads from attention_head_dim.");
        if (Levels < 1 || Levels > 8 || BlockOutChannels.Any(c => c < 1))
            throw new LongshotException("block_out_channels must hold 1 to 8 positive widths.");
        if (NormNumGroups < 1 || BlockOutChannels.Any(c => c % NormNumGroups != 0))
            throw new LongshotException($"norm_num_groups ({NormNumGroups}) must divide every block_out_channels.");
        if (DownBlockTypes.Length != Levels || UpBlockTypes.Length != Levels)
            throw new LongshotException($"down_block_types and up_block_types need {Levels} entries, one per " +
                "block_out_channels.");
        foreach (var t in DownBlockTypes)
            if (t is not (CrossDown or PlainDown))
                throw new LongshotException($"down_block_types: '{t}' is not {CrossDown} or {PlainDown}.");
        foreach (var t in UpBlockTypes)
            if (t is not (CrossUp or PlainUp))
                throw new LongshotException($"up_block_types: '{t}' is not {CrossUp} or {PlainUp}.");
        if (AttentionHeadDim < 1 || BlockOutChannels.Any(c => c % AttentionHeadDim != 0))
            throw new LongshotException($"attention_head_dim ({AttentionHeadDim}, the head width) must divide every " +
                "block_out_channels.");
        if (ActFn != "silu") throw new LongshotException($"act_fn '{ActFn}' is not supported (silu).");
        if (LayersPerBlock < 1 || InChannels < 1 || OutChannels < 1 || CrossAttentionDim < 1)
            throw new LongshotException("layers_per_block, in_channels, out_channels and cross_attention_dim must be " +
                "positive.");
        if (DownsamplePadding != 1) throw new LongshotException("downsample_padding must be 1.");
        if (!float.IsFinite(NormEps) || NormEps <= 0) throw new LongshotException("norm_eps must be positive.");
    }

    /// <summary>Reads and checks a config.json.</summary>
    public static Unet3DConfig Load(string path) =>
        StrictJson.Load<Unet3DConfig>(path, "UNet3DConditionModel config", null, c => c.Validate());
}
