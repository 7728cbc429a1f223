using System.Text.Json.Serialization;
using Longshot.Tensors;
using Longshot.Tensors.IO;

namespace Longshot.Diffusion.Clip;

/// <summary>
/// The config.json of Hugging Face's CLIPTextModel (the text encoder of ModelScope, zeroscope and VideoCrafter2: the
/// OpenCLIP ViT-H/14 text tower, 1024 wide with GELU). The bookkeeping keys transformers writes are accepted and
/// ignored; any other unknown key is an error.
/// </summary>
public sealed record ClipTextConfig
{
    /// <summary>The class these folders record.</summary>
    public const string Class = "CLIPTextModel";

    [JsonPropertyName("architectures")] public string[]? Architectures { get; init; }
    [JsonPropertyName("model_type")] public string ModelType { get; init; } = "clip_text_model";
    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; } = 49408;
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; } = 512;
    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; init; } = 2048;
    [JsonPropertyName("projection_dim")] public int ProjectionDim { get; init; } = 512;
    [JsonPropertyName("num_hidden_layers")] public int NumHiddenLayers { get; init; } = 12;
    [JsonPropertyName("num_attention_heads")] public int NumAttentionHeads { get; init; } = 8;
    [JsonPropertyName("max_position_embeddings")] public int MaxPositionEmbeddings { get; init; } = 77;
    [JsonPropertyName("hidden_act")] public string HiddenAct { get; init; } = "quick_gelu";
    [JsonPropertyName("layer_norm_eps")] public float LayerNormEps { get; init; } = 1e-5f;
    [JsonPropertyName("pad_token_id")] public int PadTokenId { get; init; } = 1;
    [JsonPropertyName("bos_token_id")] public int BosTokenId { get; init; } = 49406;
    [JsonPropertyName("eos_token_id")] public int EosTokenId { get; init; } = 49407;

    // Training and bookkeeping settings that do not change inference.
    [JsonPropertyName("attention_dropout")] public float AttentionDropout { get; init; }
    [JsonPropertyName("dropout")] public float Dropout { get; init; }
    [JsonPropertyName("initializer_factor")] public float InitializerFactor { get; init; } = 1f;
    [JsonPropertyName("initializer_range")] public float InitializerRange { get; init; } = 0.02f;
    [JsonPropertyName("torch_dtype")] public string? TorchDtype { get; init; }
    [JsonPropertyName("transformers_version")] public string? TransformersVersion { get; init; }

    /// <summary>Checks the settings; a <see cref="LongshotException"/> names the key.</summary>
    public void Validate()
    {
        if (Architectures is { Length: > 0 } a && a[0] != Class)
            throw new LongshotException($"architectures names '{a[0]}', not {Class}.");
        if (ModelType != "clip_text_model")
            throw new LongshotException($"model_type is '{ModelType}', not clip_text_model.");
        if (HiddenSize < 1 || NumAttentionHeads < 1 || HiddenSize % NumAttentionHeads != 0)
            throw new LongshotException($"hidden_size {HiddenSize} does not split into {NumAttentionHeads} " +
                "num_attention_heads.");
        if (VocabSize < 1 || IntermediateSize < 1 || NumHiddenLayers < 1 || MaxPositionEmbeddings < 1)
            throw new LongshotException("vocab_size, intermediate_size, num_hidden_layers and " +
                "max_position_embeddings must be positive.");
        if (!ClipEncoderLayer.Activations.Contains(HiddenAct))
            throw new LongshotException($"hidden_act '{HiddenAct}' is not one of " +
                $"{string.Join(", ", ClipEncoderLayer.Activations)}.");
    }

    /// <summary>Reads and checks a config.json.</summary>
    public static ClipTextConfig Load(string path) =>
        StrictJson.Load<ClipTextConfig>(path, "CLIPTextModel config", null, c => c.Validate());
}
