using Longshot.Diffusion.Schedulers;
using Longshot.Tensors;

namespace Longshot.Diffusion.Pipelines;

/// <summary>How each unit is sampled: the scheduler, its steps, classifier-free guidance and DDIM's eta.</summary>
/// <param name="Steps">Denoising steps per unit (1-1000).</param>
/// <param name="GuidanceScale">Classifier-free guidance scale; 1 turns guidance off (one model call per step).</param>
/// <param name="Scheduler">A name <see cref="Schedulers.Scheduler.Create"/> knows: dpm++, ddim or ddpm.</param>
/// <param name="Eta">DDIM's eta (0: deterministic); only for ddim.</param>
/// <param name="NoiseCorrelation">The share rho of each unit's starting noise common to all its frames:
/// sqrt(rho) shared + sqrt(1 - rho) own per frame (unit variance either way; 0: independent frames).</param>
/// <param name="FillStart">For units whose generated frames all lie between given frames: the share of the noise
/// schedule they are sampled over, starting from the given frames interpolated along time and noised to that level
/// (1: from pure noise, every step).</param>
/// <param name="FillEase">For those units: a generated frame k slots from its nearest given frame keeps k / FillEase
/// of what sampling changed in its start (1: all of it), so the fill eases into its given frames.</param>
/// <param name="GlobalSteps">Denoising steps of the global model's units (the keyframes), 0: <paramref
/// name="Steps"/>. A video has one such unit, so more steps there cost little and every later level inherits
/// them.</param>
public sealed record SamplerOptions(int Steps = 25, float GuidanceScale = 3f, string Scheduler = "dpm++",
    float Eta = 0f, float NoiseCorrelation = 0f, float FillStart = 1f, int FillEase = 1, int GlobalSteps = 0)
{
    /// <summary>The settings the shipped Toonworld models are sampled with: the default of every generation, the
    /// demo and the benchmarks (DoD and AR alike). Fills within a shot start from their given frames at 0.15 of the
    /// schedule (docs/results.md, "Fills that start from their given frames") and ease into them over 2 slots
    /// (docs/performance.md, "Given frames held"); the keyframes take 32 steps (docs/results.md, "Keyframe
    /// steps").</summary>
    public static SamplerOptions Shipped { get; } = new(Steps: 8, GuidanceScale: 2f, Scheduler: "dpm++",
        FillStart: 0.15f, FillEase: 2, GlobalSteps: 32);

    /// <summary>The settings the global model's units are sampled with: <see cref="GlobalSteps"/> steps when
    /// set.</summary>
    public SamplerOptions ForGlobal() => HasGlobalSteps ? this with { Steps = GlobalSteps } : this;

    /// <summary>Whether the global model's units take another number of steps than the rest.</summary>
    public bool HasGlobalSteps => GlobalSteps > 0 && GlobalSteps != Steps;

    /// <summary>Largest guidance scale accepted: far beyond any useful value, but finite.</summary>
    public const float MaxGuidance = 100f;

    /// <summary>Throws <see cref="LongshotException"/> naming the first setting out of range.</summary>
    public SamplerOptions Validate()
    {
        if (Steps < 1 || Steps > 1000)
            throw new LongshotException($"sampler: steps must be between 1 and 1000, got {Steps}.");
        if (!float.IsFinite(GuidanceScale) || GuidanceScale < 0 || GuidanceScale > MaxGuidance)
            throw new LongshotException($"sampler: guidance must be a number between 0 and {MaxGuidance}, got " +
                $"{GuidanceScale}.");
        if (!float.IsFinite(NoiseCorrelation) || NoiseCorrelation < 0 || NoiseCorrelation >= 1)
            throw new LongshotException($"sampler: noise correlation must be in [0, 1), got {NoiseCorrelation}.");
        if (!(FillStart > 0 && FillStart <= 1))
            throw new LongshotException($"sampler: fill start must be in (0, 1], got {FillStart}.");
        if (GlobalSteps < 0 || GlobalSteps > 1000)
            throw new LongshotException($"sampler: global steps must be between 1 and 1000 (0: as many as the " +
                $"other units), got {GlobalSteps}.");
        if (FillEase < 1 || FillEase > 1000)
            throw new LongshotException($"sampler: fill ease must be between 1 and 1000 slots, got {FillEase}.");
        Schedulers.Scheduler.Create(Scheduler, new SchedulerConfig(), new SchedulerOptions(Eta));
        return this;
    }

    /// <summary>The settings that decide the samples, as a stable text (run folders are keyed by it).</summary>
    public string Identity =>
        $"SamplerOptions {{ Steps = {Steps}, GuidanceScale = {GuidanceScale}, Scheduler = {Scheduler} }}"
                              + (Eta != 0 ? $" eta {Eta}" : "")
                              + (NoiseCorrelation != 0 ? $" noise correlation {NoiseCorrelation}" : "")
                              + (FillStart != 1 ? $" fill start {FillStart}" : "")
                              + (FillStart != 1 && FillEase != 1 ? $" fill ease {FillEase}" : "")
                              + (HasGlobalSteps ? $" global steps {GlobalSteps}" : "");
}
