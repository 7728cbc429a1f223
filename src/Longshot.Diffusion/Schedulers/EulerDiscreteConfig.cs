using System.Text.Json;
using System.Text.Json.Serialization;
using Longshot.Tensors;
using Longshot.Tensors.IO;

namespace Longshot.Diffusion.Schedulers;

/// <summary>
/// The scheduler_config.json of diffusers' EulerDiscreteScheduler (Stable Video Diffusion: scaled_linear betas,
/// Karras sigmas from 700 to 0.002, v-prediction, continuous timesteps 0.25 log sigma). Keys that other schedulers
/// write and diffusers ignores here (clip_sample, set_alpha_to_one, skip_prk_steps) are accepted and ignored.
/// </summary>
public sealed record EulerDiscreteConfig
{
    /// <summary>The diffusers class these configs record.</summary>
    public const string Class = "EulerDiscreteScheduler";

    [JsonPropertyName("_class_name")] public string ClassName { get; init; } = Class;
    [JsonPropertyName("num_train_timesteps")] public int NumTrainTimesteps { get; init; } = 1000;
    [JsonPropertyName("beta_start")] public float BetaStart { get; init; } = 0.0001f;
    [JsonPropertyName("beta_end")] public float BetaEnd { get; init; } = 0.02f;
    [JsonPropertyName("beta_schedule")] public string BetaSchedule { get; init; } = "linear";
    [JsonPropertyName("trained_betas")] public float[]? TrainedBetas { get; init; }
    [JsonPropertyName("prediction_type")] public string PredictionType { get; init; } = "epsilon";
    [JsonPropertyName("interpolation_type")] public string InterpolationType { get; init; } = "linear";
    [JsonPropertyName("use_karras_sigmas")] public bool UseKarrasSigmas { get; init; }
    [JsonPropertyName("sigma_min")] public double? SigmaMin { get; init; }
    [JsonPropertyName("sigma_max")] public double? SigmaMax { get; init; }
    [JsonPropertyName("timestep_spacing")] public string TimestepSpacing { get; init; } = "linspace";
    [JsonPropertyName("timestep_type")] public string TimestepType { get; init; } = "discrete";
    [JsonPropertyName("steps_offset")] public int StepsOffset { get; init; }
    [JsonPropertyName("rescale_betas_zero_snr")] public bool RescaleBetasZeroSnr { get; init; }

    // Written by other schedulers' configs; diffusers ignores them for this one.
    [JsonPropertyName("clip_sample")] public JsonElement? ClipSample { get; init; }
    [JsonPropertyName("set_alpha_to_one")] public JsonElement? SetAlphaToOne { get; init; }
    [JsonPropertyName("skip_prk_steps")] public JsonElement? SkipPrkSteps { get; init; }

    /// <summary>Checks the settings; a <see cref="LongshotException"/> names the key.</summary>
    public void Validate()
    {
        if (ClassName != Class) throw new LongshotException($"_class_name is '{ClassName}', not {Class}.");
        if (NumTrainTimesteps < 2 || NumTrainTimesteps > 100_000)
            throw new LongshotException("num_train_timesteps must be between 2 and 100000.");
        if (TrainedBetas == null && BetaSchedule is not ("linear" or "scaled_linear"))
            throw new LongshotException($"beta_schedule '{BetaSchedule}' is not linear or scaled_linear.");
        if (TrainedBetas != null && TrainedBetas.Length != NumTrainTimesteps)
            throw new LongshotException("trained_betas needs num_train_timesteps values.");
        if (PredictionType is not ("epsilon" or "v_prediction" or "sample"))
            throw new LongshotException($"prediction_type '{PredictionType}' is not epsilon, v_prediction or sample.");
        if (InterpolationType is not ("linear" or "log_linear"))
            throw new LongshotException($"interpolation_type '{InterpolationType}' is not linear or log_linear.");
        if (TimestepSpacing is not ("linspace" or "leading" or "trailing"))
            throw new LongshotException($"timestep_spacing '{TimestepSpacing}' is not linspace, leading or trailing.");
        if (TimestepType is not ("discrete" or "continuous"))
            throw new LongshotException($"timestep_type '{TimestepType}' is not discrete or continuous.");
        if (RescaleBetasZeroSnr) throw new LongshotException("rescale_betas_zero_snr is not supported.");
        if (SigmaMin is <= 0 || SigmaMax is <= 0 || SigmaMin >= SigmaMax)
            throw new LongshotException("sigma_min and sigma_max must be positive, sigma_min below sigma_max.");
    }

    /// <summary>Reads and checks a scheduler_config.json.</summary>
    public static EulerDiscreteConfig Load(string path) =>
        StrictJson.Load<EulerDiscreteConfig>(path, "EulerDiscreteScheduler config", null, c => c.Validate());
}
