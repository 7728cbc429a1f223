using System.Text.Json;
using System.Text.Json.Serialization;
using Longshot.Tensors;
using Longshot.Tensors.IO;

namespace Longshot.Diffusion.Svd;

/// <summary>
/// feature_extractor/preprocessor_config.json (Hugging Face's CLIPImageProcessor). Stable Video Diffusion's pipeline
/// turns its resizing, cropping and rescaling off and only normalises with image_mean and image_std; the other
/// settings are read and kept for `model info`.
/// </summary>
public sealed record ClipImageProcessorConfig
{
    [JsonPropertyName("image_mean")] public float[] ImageMean { get; init; } = { 0.48145466f, 0.4578275f, 0.40821073f };
    [JsonPropertyName("image_std")] public float[] ImageStd { get; init; } = { 0.26862954f, 0.26130258f, 0.27577711f };
    [JsonPropertyName("crop_size")] public JsonElement? CropSize { get; init; }
    [JsonPropertyName("size")] public JsonElement? Size { get; init; }
    [JsonPropertyName("do_center_crop")] public bool? DoCenterCrop { get; init; }
    [JsonPropertyName("do_convert_rgb")] public bool? DoConvertRgb { get; init; }
    [JsonPropertyName("do_normalize")] public bool? DoNormalize { get; init; }
    [JsonPropertyName("do_rescale")] public bool? DoRescale { get; init; }
    [JsonPropertyName("do_resize")] public bool? DoResize { get; init; }
    [JsonPropertyName("feature_extractor_type")] public string? FeatureExtractorType { get; init; }
    [JsonPropertyName("image_processor_type")] public string? ImageProcessorType { get; init; }
    [JsonPropertyName("resample")] public int? Resample { get; init; }
    [JsonPropertyName("rescale_factor")] public double? RescaleFactor { get; init; }

    /// <summary>Checks the normalisation; a <see cref="LongshotException"/> names the key.</summary>
    public void Validate()
    {
        if (ImageMean.Length != 3 || ImageStd.Length != 3 || ImageStd.Any(s => !(s > 0)))
            throw new LongshotException("image_mean and image_std need three values, the deviations positive.");
    }

    /// <summary>Reads and checks a preprocessor_config.json.</summary>
    public static ClipImageProcessorConfig Load(string path) =>
        StrictJson.Load<ClipImageProcessorConfig>(path, "CLIPImageProcessor config", null, c => c.Validate());

    /// <summary>An image [3, H, W] in [0, 1] normalised per channel.</summary>
    public Tensor Normalize(Tensor image)
    {
        var mean = Tensor.FromArray((float[])ImageMean.Clone(), 3, 1, 1);
        var std = Tensor.FromArray((float[])ImageStd.Clone(), 3, 1, 1);
        return Ops.Div(image - mean, std);
    }
}
