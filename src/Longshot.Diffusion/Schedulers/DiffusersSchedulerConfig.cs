using System.Text.Json;
using System.Text.Json.Serialization;
using Longshot.Tensors;
using Longshot.Tensors.IO;

namespace Longshot.Diffusion.Schedulers;

/// <summary>
/// A scheduler_config.json of the text-to-video folders, read for diffusers' DDIMScheduler and
/// DPMSolverMultistepScheduler: their keys together, as diffusers lets one config build either (its from_config),
/// with the class's defaults. A copy with another class or settings (C#'s <c>with</c>) is what a user's
/// from_config(config, algorithm_type=...) call builds.
/// </summary>
public sealed record DiffusersSchedulerConfig
{
    public const string Ddim = "DDIMScheduler", DpmSolver = "DPMSolverMultistepScheduler";

    [JsonPropertyName("_class_name")] public string ClassName { get; init; } = Ddim;
    [JsonPropertyName("num_train_timesteps")] public int NumTrainTimesteps { get; init; } = 1000;
    [JsonPropertyName("beta_start")] public float BetaStart { get; init; } = 0.0001f;
    [JsonPropertyName("beta_end")] public float BetaEnd { get; init; } = 0.02f;
    [JsonPropertyName("beta_schedule")] public string BetaSchedule { get; init; } = "linear";
    [JsonPropertyName("trained_betas")] public float[]? TrainedBetas { get; init; }
    [JsonPropertyName("prediction_type")] public string PredictionType { get; init; } = "epsilon";
    /// <summary>DDIM's default is "leading"; DPM-Solver's "linspace" (null: the class's).</summary>
    [JsonPropertyName("timestep_spacing")] public string? TimestepSpacing { get; init; }
    [JsonPropertyName("steps_offset")] public int StepsOffset { get; init; }
    [JsonPropertyName("thresholding")] public bool Thresholding { get; init; }

    // DDIM.
    [JsonPropertyName("clip_sample")] public bool ClipSample { get; init; } = true;
    [JsonPropertyName("clip_sample_range")] public float ClipSampleRange { get; init; } = 1f;
    [JsonPropertyName("set_alpha_to_one")] public bool SetAlphaToOne { get; init; } = true;
    [JsonPropertyName("rescale_betas_zero_snr")] public bool RescaleBetasZeroSnr { get; init; }

    // DPM-Solver.
    [JsonPropertyName("solver_order")] public int SolverOrder { get; init; } = 2;
    [JsonPropertyName("algorithm_type")] public string AlgorithmType { get; init; } = "dpmsolver++";
    [JsonPropertyName("solver_type")] public string SolverType { get; init; } = "midpoint";
    [JsonPropertyName("lower_order_final")] public bool LowerOrderFinal { get; init; } = true;
    [JsonPropertyName("euler_at_final")] public bool EulerAtFinal { get; init; }
    [JsonPropertyName("use_karras_sigmas")] public bool UseKarrasSigmas { get; init; }
    [JsonPropertyName("use_lu_lambdas")] public bool UseLuLambdas { get; init; }
    [JsonPropertyName("lambda_min_clipped")] public JsonElement? LambdaMinClipped { get; init; }
    [JsonPropertyName("variance_type")] public string? VarianceType { get; init; }

    // Read by diffusers for other schedulers or for thresholding, which Longshot refuses: accepted, not used.
    [JsonPropertyName("skip_prk_steps")] public JsonElement? SkipPrkSteps { get; init; }
    [JsonPropertyName("dynamic_thresholding_ratio")] public JsonElement? DynamicThresholdingRatio { get; init; }
    [JsonPropertyName("sample_max_value")] public JsonElement? SampleMaxValue { get; init; }

    /// <summary>The timestep spacing in effect.</summary>
    [JsonIgnore] public string Spacing => TimestepSpacing ?? (ClassName == Ddim ? "leading" : "linspace");

    /// <summary>Checks the settings; a <see cref="LongshotException"/> names the key.</summary>
    public void Validate()
    {
        if (ClassName is not (Ddim or DpmSolver))
            throw new LongshotException($"_class_name '{ClassName}' is not {Ddim} or {DpmSolver}.");
        if (TrainingBetas.Problem(NumTrainTimesteps, BetaStart, BetaEnd, BetaSchedule, TrainedBetas) is { } p)
            throw new LongshotException(p);
        if (PredictionType is not ("epsilon" or "v_prediction" or "sample"))
            throw new LongshotException($"prediction_type '{PredictionType}' is not epsilon, v_prediction or sample.");
        if (Spacing is not ("linspace" or "leading" or "trailing"))
            throw new LongshotException($"timestep_spacing '{Spacing}' is not linspace, leading or trailing.");
        if (Thresholding) throw new LongshotException("thresholding is not supported.");
        if (RescaleBetasZeroSnr) throw new LongshotException("rescale_betas_zero_snr is not supported.");
        if (AlgorithmType is not ("dpmsolver++" or "sde-dpmsolver++"))
            throw new LongshotException($"algorithm_type '{AlgorithmType}' is not dpmsolver++ or sde-dpmsolver++.");
        if (SolverType != "midpoint") throw new LongshotException($"solver_type '{SolverType}' is not midpoint.");
        if (SolverOrder is not (1 or 2)) throw new LongshotException("solver_order must be 1 or 2.");
        if (UseLuLambdas) throw new LongshotException("use_lu_lambdas is not supported.");
        if (VarianceType != null) throw new LongshotException("variance_type is not supported (null).");
        if (LambdaMinClipped is { ValueKind: JsonValueKind.Number })
            throw new LongshotException("lambda_min_clipped is not supported (leave it unset).");
    }

    /// <summary>Reads and checks a scheduler_config.json.</summary>
    public static DiffusersSchedulerConfig Load(string path) =>
        StrictJson.Load<DiffusersSchedulerConfig>(path, "scheduler config", null, c => c.Validate());
}
