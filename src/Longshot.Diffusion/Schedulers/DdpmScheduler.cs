using Longshot.Tensors;

namespace Longshot.Diffusion.Schedulers;

/// <summary>
/// Ancestral DDPM sampling (NUWA-XL Eq. 16): x_{t-1} = posterior mean + sqrt(posterior variance) * z, for any
/// subsequence of timesteps (beta re-derived from alpha-bar between the two steps). Eq. 16 in the paper writes the
/// variance where its square root belongs (and Eq. 4 drops a square root); this follows Ho et al.
/// </summary>
public sealed class DdpmScheduler(SchedulerConfig config) : Scheduler(config)
{
    public override void SetTimesteps(int steps) => Timesteps = Schedule.Spaced(steps);

    public override Tensor Step(Tensor modelOutput, int t, Tensor sample, Rng? rng = null)
    {
        int prev = Previous(t);
        double ab = Schedule.AlphaBar(t), abPrev = Schedule.AlphaBar(prev);
        double beta = 1 - ab / abPrev, alpha = 1 - beta;
        var x0 = Schedule.PredictX0(sample, modelOutput, t);
        // Posterior q(x_prev | x_t, x0): mean = c0 * x0 + ct * x_t.
        float c0 = (float)(Math.Sqrt(abPrev) * beta / (1 - ab));
        float ct = (float)(Math.Sqrt(alpha) * (1 - abPrev) / (1 - ab));
        var mean = x0 * c0 + sample * ct;
        if (prev < 0) return mean;
        if (rng == null) throw new LongshotException("DDPM: a random generator is needed for the noise of each step.");
        double variance = PosteriorVariance(t, prev);
        return mean + Tensor.Randn(rng, sample.Shape).ToDevice(sample.Device) * (float)Math.Sqrt(variance);
    }

    /// <summary>beta-tilde = (1 - abar_prev) / (1 - abar_t) * beta.</summary>
    public double PosteriorVariance(int t, int prev)
    {
        double ab = Schedule.AlphaBar(t), abPrev = Schedule.AlphaBar(prev);
        return (1 - abPrev) / (1 - ab) * (1 - ab / abPrev);
    }
}
