using System.Text.Json.Serialization;
using Longshot.Tensors;
using Longshot.Tensors.IO;

namespace Longshot.Diffusion.Clip;

/// <summary>
/// The config.json of Hugging Face's CLIPVisionModelWithProjection (Stable Video Diffusion's image_encoder/: the
/// OpenCLIP ViT-H/14 vision tower). Hugging Face configs name their class in "architectures"; the bookkeeping keys
/// transformers writes are accepted and ignored, any other unknown key is an error.
/// </summary>
public sealed record ClipVisionConfig
{
    /// <summary>The class these folders record.</summary>
    public const string Class = "CLIPVisionModelWithProjection";

    [JsonPropertyName("architectures")] public string[]? Architectures { get; init; }
    [JsonPropertyName("model_type")] public string ModelType { get; init; } = "clip_vision_model";
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; } = 768;
    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; init; } = 3072;
    [JsonPropertyName("projection_dim")] public int ProjectionDim { get; init; } = 512;
    [JsonPropertyName("num_hidden_layers")] public int NumHiddenLayers { get; init; } = 12;
    [JsonPropertyName("num_attention_heads")] public int NumAttentionHeads { get; init; } = 12;
    [JsonPropertyName("num_channels")] public int NumChannels { get; init; } = 3;
    [JsonPropertyName("image_size")] public int ImageSize { get; init; } = 224;
    [JsonPropertyName("patch_size")] public int PatchSize { get; init; } = 32;
    [JsonPropertyName("hidden_act")] public string HiddenAct { get; init; } = "quick_gelu";
    [JsonPropertyName("layer_norm_eps")] public float LayerNormEps { get; init; } = 1e-5f;

    // Training and bookkeeping settings that do not change inference.
    [JsonPropertyName("attention_dropout")] public float AttentionDropout { get; init; }
    [JsonPropertyName("dropout")] public float Dropout { get; init; }
    [JsonPropertyName("initializer_factor")] public float InitializerFactor { get; init; } = 1f;
    [JsonPropertyName("initializer_range")] public float InitializerRange { get; init; } = 0.02f;
    [JsonPropertyName("torch_dtype")] public string? TorchDtype { get; init; }
    [JsonPropertyName("transformers_version")] public string? TransformersVersion { get; init; }

    /// <summary>Patches per side.</summary>
    [JsonIgnore] public int Grid => ImageSize / PatchSize;

    /// <summary>Checks the settings; a <see cref="LongshotException"/> names the key.</summary>
    public void Validate()
    {
        if (Architectures is { Length: > 0 } a && a[0] != Class)
            throw new LongshotException($"architectures names '{a[0]}', not {Class}.");
        if (ModelType != "clip_vision_model")
            throw new LongshotException($"model_type is '{ModelType}', not clip_vision_model.");
        if (HiddenSize < 1 || NumAttentionHeads < 1 || HiddenSize % NumAttentionHeads != 0)
            throw new LongshotException($"hidden_size {HiddenSize} does not split into {NumAttentionHeads} " +
                "num_attention_heads.");
        if (IntermediateSize < 1 || ProjectionDim < 1 || NumHiddenLayers < 1 || NumChannels < 1)
            throw new LongshotException("intermediate_size, projection_dim, num_hidden_layers and num_channels must " +
                "be positive.");
        if (PatchSize < 1 || ImageSize < PatchSize || ImageSize % PatchSize != 0)
            throw new LongshotException($"image_size {ImageSize} is not a whole number of patch_size {PatchSize}.");
        if (!ClipEncoderLayer.Activations.Contains(HiddenAct))
            throw new LongshotException($"hidden_act '{HiddenAct}' is not one of " +
                $"{string.Join(", ", ClipEncoderLayer.Activations)}.");
    }

    /// <summary>Reads and checks a config.json.</summary>
    public static ClipVisionConfig Load(string path) =>
        StrictJson.Load<ClipVisionConfig>(path, "CLIPVisionModelWithProjection config", null, c => c.Validate());
}
