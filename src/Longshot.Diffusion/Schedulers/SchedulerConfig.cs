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
    [JsonPropertyName("num_train_timesteps"), JsonRequired] public int NumTrainTimesteps { get; init; } = 1000;
    [JsonPropertyName("beta_start"), JsonRequired] public float BetaStart { get; init; } = 1e-4f;
    [JsonPropertyName("beta_end"), JsonRequired] public float BetaEnd { get; init; } = 0.02f;
    /// <summary>"linear" (DDPM), "scaled_linear" (Stable Diffusion) or "squaredcos_cap_v2" (cosine, Nichol &amp;
    /// Dhariwal).</summary>
    [JsonPropertyName("beta_schedule"), JsonRequired] public string BetaSchedule { get; init; } = "linear";
    [JsonPropertyName("prediction_type"), JsonRequired] public string PredictionType { get; init; } = "epsilon";
    /// <summary>Clamp every predicted x0 to [-clip_sample_range, clip_sample_range] (diffusers' clip_sample).</summary>
    [JsonPropertyName("clip_sample")] public bool ClipSample { get; init; }
    [JsonPropertyName("clip_sample_range")] public float ClipSampleRange { get; init; } = 1f;

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public string ToJson() => JsonSerializer.Serialize(this, Json);
    public void Save(string path) => AtomicFile.WriteAllText(path, ToJson());

    public static SchedulerConfig Load(string path) =>
        StrictJson.Load<SchedulerConfig>(path, "scheduler config", Json, c => c.Validate());

    /// <summary>Throws <see cref="LongshotException"/> naming the first setting no schedule can be built
    /// from.</summary>
    public void Validate()
    {
        if (NumTrainTimesteps < 2 || NumTrainTimesteps > 100_000)
            throw new LongshotException($"scheduler config: num_train_timesteps must be between 2 and 100000, got " +
                $"{NumTrainTimesteps}.");
        if (!(BetaStart > 0 && BetaStart <= BetaEnd && BetaEnd < 1))
            throw new LongshotException($"scheduler config: need 0 < beta_start <= beta_end < 1, got {BetaStart} and " +
                $"{BetaEnd}.");
        if (!float.IsFinite(ClipSampleRange) || ClipSampleRange <= 0)
            throw new LongshotException($"scheduler config: clip_sample_range must be positive, got " +
                $"{ClipSampleRange}.");
        new NoiseSchedule(this);
    }
}
