using Longshot.Tensors;

namespace Longshot.Diffusion.Schedulers;

/// <summary>
/// DDIM (Song et al.): x_prev = sqrt(abar_prev) x0 + sqrt(1 - abar_prev - sigma^2) eps + sigma z, with
/// sigma = eta * sqrt((1 - abar_prev)/(1 - abar_t)) * sqrt(1 - abar_t/abar_prev). eta = 0 is deterministic.
/// </summary>
public sealed class DdimScheduler(SchedulerConfig config, float eta = 0f) : Scheduler(config)
{
    public float Eta { get; } = eta;

    public override Tensor Step(Tensor modelOutput, int t, Tensor sample, Rng? rng = null)
    {
        int prev = Previous(t);
        double ab = Schedule.AlphaBar(t), abPrev = Schedule.AlphaBar(prev);
        var x0 = Schedule.PredictX0(sample, modelOutput, t);
        var eps = Schedule.PredictEpsilon(sample, modelOutput, t);
        double sigma = Eta * Math.Sqrt((1 - abPrev) / (1 - ab)) * Math.Sqrt(1 - ab / abPrev);
        var next = x0 * (float)Math.Sqrt(abPrev) + eps * (float)Math.Sqrt(Math.Max(0, 1 - abPrev - sigma * sigma));
        if (sigma > 0)
        {
            if (rng == null) throw new LongshotException("DDIM with eta > 0 needs a random generator.");
            next = next + Tensor.Randn(rng, sample.Shape).ToDevice(sample.Device) * (float)sigma;
        }
        return next;
    }
}
