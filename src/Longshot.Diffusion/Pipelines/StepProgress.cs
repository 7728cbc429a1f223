namespace Longshot.Diffusion.Pipelines;

/// <summary>Where a step-by-step run of a published pipeline is: the denoising step done (of the total), or the
/// frames decoded.</summary>
/// <param name="Stage">"denoise" or "decode".</param>
public sealed record StepProgress(string Stage, int Done, int Total);
