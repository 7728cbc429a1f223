using Longshot.Tensors;

namespace Longshot.Diffusion.Schedulers;

/// <summary>betas, alphas and their cumulative products for t = 0 .. T-1 (computed in double).</summary>
public sealed class NoiseSchedule
{
    public SchedulerConfig Config { get; }
    public double[] Betas { get; }
    public double[] AlphasCumprod { get; }
    public int T => Betas.Length;

    public NoiseSchedule(SchedulerConfig c)
    {
        if (c.NumTrainTimesteps < 2) throw new LongshotException("scheduler: num_train_timesteps must be >= 2.");
        if (c.PredictionType is not ("epsilon" or "v_prediction"))
            throw new LongshotException($"scheduler: prediction_type '{c.PredictionType}' is not supported (epsilon, " +
            $"v_prediction).");
        Config = c;
        int n = c.NumTrainTimesteps;
        Betas = c.BetaSchedule switch
        {
            "linear" => Enumerable.Range(0, n)
                .Select(i => c.BetaStart + (c.BetaEnd - (double)c.BetaStart) * i / (n - 1)).ToArray(),
            "scaled_linear" => Enumerable.Range(0, n).Select(i =>
            {
                double s = Math.Sqrt(c.BetaStart) + (Math.Sqrt(c.BetaEnd) - Math.Sqrt(c.BetaStart)) * i / (n - 1);
                return s * s;
            }).ToArray(),
            "squaredcos_cap_v2" => Enumerable.Range(0, n)
                .Select(i => Math.Min(1 - CosineAlphaBar((i + 1.0) / n) / CosineAlphaBar((double)i / n), 0.999))
                .ToArray(),
            _ => throw new LongshotException($"scheduler: beta_schedule '{c.BetaSchedule}' is not supported (linear, " +
                $"scaled_linear, squaredcos_cap_v2)."),
        };
        AlphasCumprod = new double[n];
        double p = 1;
        for (int i = 0; i < n; i++) { p *= 1 - Betas[i]; AlphasCumprod[i] = p; }
    }

    private static double CosineAlphaBar(double t) => Math.Pow(Math.Cos((t + 0.008) / 1.008 * Math.PI / 2), 2);

    /// <summary>alpha-bar at timestep t, with t = -1 meaning "before any noise" (1).</summary>
    public double AlphaBar(int t) => t < 0 ? 1.0 : AlphasCumprod[t];

    /// <summary>x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps, with one timestep per batch item (dimension 0).</summary>
    public Tensor AddNoise(Tensor x0, Tensor noise, int[] timesteps)
    {
        var (a, s) = Coefficients("AddNoise", x0, timesteps);
        return x0 * a + noise * s;
    }

    /// <summary>
    /// What the model learns to output for x_t = AddNoise(x0, noise, t): the noise (epsilon), or the velocity
    /// v = sqrt(abar) noise - sqrt(1 - abar) x0 (v_prediction, Salimans and Ho).
    /// </summary>
    public Tensor TrainingTarget(Tensor x0, Tensor noise, int[] timesteps)
    {
        if (Config.PredictionType == "epsilon") return noise;
        var (a, s) = Coefficients("TrainingTarget", x0, timesteps);
        return noise * a - x0 * s;
    }

    /// <summary>sqrt(abar_t) and sqrt(1 - abar_t) per batch item, shaped to broadcast over <paramref
    /// name="x"/>.</summary>
    private (Tensor SqrtAlphaBar, Tensor SqrtOneMinus) Coefficients(string op, Tensor x, int[] timesteps)
    {
        if (timesteps.Length != x.Shape[0])
            throw new LongshotException($"{op}: {timesteps.Length} timesteps for a batch of {x.Shape[0]}.");
        var shape = new int[x.Rank]; Array.Fill(shape, 1); shape[0] = x.Shape[0];
        Tensor Of(Func<int, double> f) =>
            Tensor.FromArray(timesteps.Select(t => (float)f(t)).ToArray(), shape).ToDevice(x.Device);
        return (Of(t => Math.Sqrt(AlphaBar(t))), Of(t => Math.Sqrt(1 - AlphaBar(t))));
    }

    /// <summary>The noise the model's output implies at x_t (for epsilon prediction, the output itself).</summary>
    public Tensor PredictEpsilon(Tensor sample, Tensor modelOutput, int t)
    {
        if (Config.PredictionType == "epsilon") return modelOutput;
        double ab = AlphaBar(t);
        return modelOutput * (float)Math.Sqrt(ab) + sample * (float)Math.Sqrt(1 - ab);
    }

    /// <summary>
    /// The model's estimate of x0 from its output at x_t. With epsilon prediction, 1/sqrt(abar) amplifies any error
    /// of the output (x160 at t = 999 for linear betas); v prediction has no such amplification.
    /// </summary>
    public Tensor PredictX0(Tensor sample, Tensor modelOutput, int t)
    {
        double ab = AlphaBar(t);
        var x0 = Config.PredictionType == "epsilon"
            ? (sample - modelOutput * (float)Math.Sqrt(1 - ab)) * (float)(1 / Math.Sqrt(ab))
            : sample * (float)Math.Sqrt(ab) - modelOutput * (float)Math.Sqrt(1 - ab);
        if (!Config.ClipSample) return x0;
        // At high noise 1/sqrt(abar) amplifies any error of eps (x160 at t = 999 for linear betas); clamping keeps
        // the sampler's trajectory inside the range the model was trained on.
        float r = Config.ClipSampleRange;
        var v = x0.ToArray();
        for (int i = 0; i < v.Length; i++) v[i] = Math.Clamp(v[i], -r, r);
        return Tensor.FromArray(v, x0.Shape).ToDevice(x0.Device);
    }

    /// <summary><paramref name="steps"/> timesteps evenly spaced from T-1 down to 0.</summary>
    public int[] Spaced(int steps)
    {
        if (steps < 1 || steps > T)
            throw new LongshotException($"scheduler: {steps} inference steps must be between 1 and {T}.");
        if (steps == 1) return new[] { T - 1 };
        return Enumerable.Range(0, steps).Select(i => (int)Math.Round((T - 1) * (1 - i / (double)(steps - 1))))
            .Distinct().ToArray();
    }
}
