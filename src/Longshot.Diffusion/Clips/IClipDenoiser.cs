using Longshot.Tensors;

namespace Longshot.Diffusion.Clips;

/// <summary>
/// One clip's denoising for the clip engine (<see cref="ClipRun"/>), as a model family does it: its latents
/// frames-as-batch [L, c, h, w], one step at a time (model calls go through the clip's exchange), and what a run
/// folder must keep to continue after a step.
/// </summary>
internal interface IClipDenoiser
{
    /// <summary>The clip's latents now, [L, c, h, w].</summary>
    Tensor Latents { get; }

    /// <summary>Denoising steps in all.</summary>
    int Steps { get; }

    /// <summary>Runs step <paramref name="k"/> (0-based): the latents after it replace <see cref="Latents"/>.</summary>
    void Step(int k);

    /// <summary>The sampler's carried state (saved with the latents after each step).</summary>
    IReadOnlyDictionary<string, Tensor> SchedulerState { get; }

    /// <summary>The noise generator's position (saved with the latents after each step).</summary>
    ulong RngCounter { get; }

    /// <summary>Puts back a saved state: the latents, the sampler's state and the generator's position.</summary>
    void Restore(Tensor latents, IReadOnlyDictionary<string, Tensor> scheduler, ulong rngCounter);
}

/// <summary>Makes the denoiser of clip <paramref name="clip"/>, whose model calls use <paramref name="exchange"/>
/// (called on that clip's thread).</summary>
internal delegate IClipDenoiser ClipDenoiserFactory(int clip, ClipExchange exchange);
