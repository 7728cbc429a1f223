using System.Text.Json.Serialization;
using Longshot.Tensors;
using Longshot.Tensors.IO;

namespace Longshot.Diffusion.Clip;

/// <summary>
/// The config.json of Hugging Face's CLIPVisionModelWithProjection (Stable Video Diffusion's image_encoder/: the
/// OpenCLIP ViT-H/14 vision tower); the keys every CLIP tower has are <see cref="ClipTowerConfig"/>'s.
/// </summary>
public sealed record ClipVisionConfig : ClipTowerConfig
{
    /// <summary>The class these folders record.</summary>
    public const string Class = "CLIPVisionModelWithProjection";

    /// <summary>transformers' defaults for the vision tower.</summary>
    public ClipVisionConfig()
    {
        ModelType = "clip_vision_model"; HiddenSize = 768; IntermediateSize = 3072; NumAttentionHeads = 12;
    }

    [JsonPropertyName("num_channels")] public int NumChannels { get; init; } = 3;
    [JsonPropertyName("image_size")] public int ImageSize { get; init; } = 224;
    [JsonPropertyName("patch_size")] public int PatchSize { get; init; } = 32;

    /// <summary>Patches per side.</summary>
    [JsonIgnore] public int Grid => ImageSize / PatchSize;

    /// <summary>Checks the settings; a <see cref="LongshotException"/> names the key.</summary>
    public void Validate()
    {
        ValidateTower(Class, "clip_vision_model");
        if (NumChannels < 1) throw new LongshotException("num_channels must be positive.");
        if (PatchSize < 1 || ImageSize < PatchSize || ImageSize % PatchSize != 0)
            throw new LongshotException($"image_size {ImageSize} is not a whole number of patch_size {PatchSize}.");
    }

    /// <summary>Reads and checks a config.json.</summary>
    public static ClipVisionConfig Load(string path) =>
        StrictJson.Load<ClipVisionConfig>(path, "CLIPVisionModelWithProjection config", null, c => c.Validate());
}
