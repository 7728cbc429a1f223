using System.Text.Json.Serialization;
using Longshot.Tensors;
using Longshot.Tensors.IO;

namespace Longshot.Diffusion.Clip;

/// <summary>
/// The config.json of Hugging Face's CLIPTextModel (the text encoder of ModelScope, zeroscope and VideoCrafter2: the
/// OpenCLIP ViT-H/14 text tower, 1024 wide with GELU); the keys every CLIP tower has are
/// <see cref="ClipTowerConfig"/>'s.
/// </summary>
public sealed record ClipTextConfig : ClipTowerConfig
{
    /// <summary>The class these folders record.</summary>
    public const string Class = "CLIPTextModel";

    /// <summary>transformers' defaults for the text tower.</summary>
    public ClipTextConfig()
    {
        ModelType = "clip_text_model"; HiddenSize = 512; IntermediateSize = 2048; NumAttentionHeads = 8;
    }

    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; } = 49408;
    [JsonPropertyName("max_position_embeddings")] public int MaxPositionEmbeddings { get; init; } = 77;
    [JsonPropertyName("pad_token_id")] public int PadTokenId { get; init; } = 1;
    [JsonPropertyName("bos_token_id")] public int BosTokenId { get; init; } = 49406;
    [JsonPropertyName("eos_token_id")] public int EosTokenId { get; init; } = 49407;

    /// <summary>Checks the settings; a <see cref="LongshotException"/> names the key.</summary>
    public void Validate()
    {
        ValidateTower(Class, "clip_text_model");
        if (VocabSize < 1 || MaxPositionEmbeddings < 1)
            throw new LongshotException("vocab_size and max_position_embeddings must be positive.");
    }

    /// <summary>Reads and checks a config.json.</summary>
    public static ClipTextConfig Load(string path) =>
        StrictJson.Load<ClipTextConfig>(path, "CLIPTextModel config", null, c => c.Validate());
}
