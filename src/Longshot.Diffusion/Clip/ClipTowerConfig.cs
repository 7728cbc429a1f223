using System.Text.Json.Serialization;
using Longshot.Tensors;

namespace Longshot.Diffusion.Clip;

/// <summary>
/// What the config.json of a Hugging Face CLIP tower (text or vision) holds in common: the class in "architectures",
/// the transformer's widths, depth, heads and activation, and the bookkeeping keys transformers writes, accepted and
/// ignored. Each tower's record sets its own defaults and checks its own keys on top.
/// </summary>
public abstract record ClipTowerConfig
{
    [JsonPropertyName("architectures")] public string[]? Architectures { get; init; }
    [JsonPropertyName("model_type")] public string ModelType { get; init; } = "";
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; }
    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; init; }
    [JsonPropertyName("projection_dim")] public int ProjectionDim { get; init; } = 512;
    [JsonPropertyName("num_hidden_layers")] public int NumHiddenLayers { get; init; } = 12;
    [JsonPropertyName("num_attention_heads")] public int NumAttentionHeads { get; init; }
    [JsonPropertyName("hidden_act")] public string HiddenAct { get; init; } = "quick_gelu";
    [JsonPropertyName("layer_norm_eps")] public float LayerNormEps { get; init; } = 1e-5f;

    // Training and bookkeeping settings that do not change inference.
    [JsonPropertyName("attention_dropout")] public float AttentionDropout { get; init; }
    [JsonPropertyName("dropout")] public float Dropout { get; init; }
    [JsonPropertyName("initializer_factor")] public float InitializerFactor { get; init; } = 1f;
    [JsonPropertyName("initializer_range")] public float InitializerRange { get; init; } = 0.02f;
    [JsonPropertyName("torch_dtype")] public string? TorchDtype { get; init; }
    [JsonPropertyName("transformers_version")] public string? TransformersVersion { get; init; }

    /// <summary>Checks the keys every tower has against the tower's class and model type; a
    /// <see cref="LongshotException"/> names the key.</summary>
    protected void ValidateTower(string className, string modelType)
    {
        if (Architectures is { Length: > 0 } a && a[0] != className)
            throw new LongshotException($"architectures names '{a[0]}', not {className}.");
        if (ModelType != modelType)
            throw new LongshotException($"model_type is '{ModelType}', not {modelType}.");
        if (HiddenSize < 1 || NumAttentionHeads < 1 || HiddenSize % NumAttentionHeads != 0)
            throw new LongshotException($"hidden_size {HiddenSize} does not split into {NumAttentionHeads} " +
                "num_attention_heads.");
        if (IntermediateSize < 1 || ProjectionDim < 1 || NumHiddenLayers < 1)
            throw new LongshotException("intermediate_size, projection_dim and num_hidden_layers must be positive.");
        if (!ClipEncoderLayer.Activations.Contains(HiddenAct))
            throw new LongshotException($"hidden_act '{HiddenAct}' is not one of " +
                $"{string.Join(", ", ClipEncoderLayer.Activations)}.");
    }
}
