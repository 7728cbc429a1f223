using Longshot.Tensors;

namespace Longshot.Diffusion.Schedulers;

/// <summary>
/// The noise levels ExVideo's post-tuning of Stable Video Diffusion trains on (DiffSynth-Studio's
/// ContinuousODEScheduler with 1,000 steps): Karras' spacing from sigma 700 down to 0.002 (rho 7), the model's
/// timestep 0.25 ln sigma, inputs (x0 + sigma n) / sqrt(sigma^2 + 1), the clean latents estimated from the model's
/// v-prediction output (EDM's c_skip and c_out), and the loss weight sqrt(1 + sigma^2) / sigma.
/// </summary>
public sealed class EdmTrainingSchedule
{
    /// <summary>The noise levels, largest first.</summary>
    public float[] Sigmas { get; }

    /// <summary>A schedule of <paramref name="levels"/> noise levels between <paramref name="sigmaMax"/> and
    /// <paramref name="sigmaMin"/>.</summary>
    public EdmTrainingSchedule(int levels = 1000, double sigmaMax = 700, double sigmaMin = 0.002, double rho = 7)
    {
        if (levels < 2) throw new ArgumentOutOfRangeException(nameof(levels), "a schedule needs 2 levels or more.");
        // In float32 as the reference computes them: a linear ramp between the sigmas' 1/rho powers, raised to rho.
        float minInv = MathF.Pow((float)sigmaMin, (float)(1 / rho)), maxInv = MathF.Pow((float)sigmaMax,
            (float)(1 / rho));
        Sigmas = new float[levels];
        for (int i = 0; i < levels; i++)
        {
            float ramp = (float)i / (levels - 1);
            Sigmas[i] = MathF.Pow(maxInv + ramp * (minInv - maxInv), (float)rho);
        }
    }

    /// <summary>What the UNet is given as the timestep of level <paramref name="level"/>.</summary>
    public float Timestep(int level) => MathF.Log(Sigmas[level]) * 0.25f;

    /// <summary>The model's input at a level: (x0 + sigma noise) / sqrt(sigma^2 + 1).</summary>
    public Tensor Noisy(Tensor x0, Tensor noise, int level)
    {
        float s = Sigmas[level];
        return (x0 + noise * s) * (1f / MathF.Sqrt(s * s + 1f));
    }

    /// <summary>The clean latents the model's output implies: -sigma / sqrt(sigma^2 + 1) output + (x0 + sigma
    /// noise) / (sigma^2 + 1), where <paramref name="noisy"/> is the model's input.</summary>
    public Tensor Estimate(Tensor output, Tensor noisy, int level)
    {
        float s = Sigmas[level], root = MathF.Sqrt(s * s + 1f);
        return output * (-s / root) + noisy * (root / (s * s + 1f));
    }

    /// <summary>The loss weight of a level: sqrt(1 + sigma^2) / sigma.</summary>
    public float Weight(int level)
    {
        float s = Sigmas[level];
        return MathF.Sqrt(1f + s * s) / s;
    }
}
