using System.Text.Json;
using System.Text.Json.Serialization;
using Longshot.Tensors;
using Longshot.Tensors.IO;

namespace Longshot.Diffusion.Schedulers;

/// <summary>
/// A scheduler's config.json (diffusers' keys): the training noise schedule shared by every sampler.
/// </summary>
public sealed record SchedulerConfig
{
    [JsonPropertyName("_class_name")] public string ClassName { get; init; } = "DDPMScheduler";
    [JsonPropertyName("num_train_timesteps")] public int NumTrainTimesteps { get; init; } = 1000;
    [JsonPropertyName("beta_start")] public float BetaStart { get; init; } = 1e-4f;
    [JsonPropertyName("beta_end")] public float BetaEnd { get; init; } = 0.02f;
    /// <summary>"linear" (DDPM), "scaled_linear" (Stable Diffusion) or "squaredcos_cap_v2" (cosine, Nichol &amp;
    /// Dhariwal).</summary>
    [JsonPropertyName("beta_schedule")] public string BetaSchedule { get; init; } = "linear";
    [JsonPropertyName("prediction_type")] public string PredictionType { get; init; } = "epsilon";
    /// <summary>Clamp every predicted x0 to [-clip_sample_range, clip_sample_range] (diffusers' clip_sample).</summary>
    [JsonPropertyName("clip_sample")] public bool ClipSample { get; init; }
    [JsonPropertyName("clip_sample_range")] public float ClipSampleRange { get; init; } = 1f;

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public string ToJson() => JsonSerializer.Serialize(this, Json);
    public void Save(string path) => AtomicFile.WriteAllText(path, ToJson());

    public static SchedulerConfig Load(string path)
    {
        try { return JsonSerializer.Deserialize<SchedulerConfig>(File.ReadAllText(path), Json)
            ?? throw new JsonException("empty"); }
        catch (JsonException e) { throw new LongshotException($"{path}: not a valid scheduler config ({e.Message})."); }
    }
}
