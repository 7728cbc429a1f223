using Longshot.Tensors;

namespace Longshot.Diffusion.Schedulers;

/// <summary>
/// diffusers' EulerDiscreteScheduler, deterministic (s_churn 0): sigmas from the training schedule (or Karras'
/// spacing between sigma_min and sigma_max), the model input scaled by 1/sqrt(sigma^2 + 1), and Euler steps of the
/// probability-flow ODE in sigma. Walk it by step index: <see cref="ScaleModelInput"/>, the model at
/// <see cref="Timesteps"/>[i], then <see cref="Step"/>.
/// </summary>
public sealed class EulerDiscreteScheduler
{
    private readonly float[] _trainSigmas;

    /// <summary>Its settings.</summary>
    public EulerDiscreteConfig Config { get; }

    /// <summary>The sigmas of the current schedule, then 0.</summary>
    public float[] Sigmas { get; private set; } = Array.Empty<float>();

    /// <summary>What the model is given as its timestep at each step (0.25 log sigma for continuous
    /// v-prediction).</summary>
    public float[] Timesteps { get; private set; } = Array.Empty<float>();

    public EulerDiscreteScheduler(EulerDiscreteConfig config)
    {
        config.Validate();
        Config = config;
        _trainSigmas = TrainingSigmas(config);
    }

    /// <summary>sqrt((1 - alpha_bar) / alpha_bar) per training timestep, in float32 as the reference keeps
    /// them.</summary>
    private static float[] TrainingSigmas(EulerDiscreteConfig c) =>
        TrainingBetas.AlphasCumprod(c.NumTrainTimesteps, c.BetaStart, c.BetaEnd, c.BetaSchedule, c.TrainedBetas)
            .Select(a => MathF.Sqrt((1f - a) / a)).ToArray();

    /// <summary>The noise scale of the first sample: the largest sigma (sqrt(sigma^2 + 1) for "leading"
    /// spacing).</summary>
    public float InitNoiseSigma
    {
        get
        {
            float max = Sigmas.Max();
            return Config.TimestepSpacing is "linspace" or "trailing" ? max : MathF.Sqrt(max * max + 1f);
        }
    }

    /// <summary>Sets the schedule for <paramref name="steps"/> model calls.</summary>
    public void SetTimesteps(int steps)
    {
        if (steps < 1) throw new SettingException("Steps", $"steps must be at least 1, got {steps}.");
        int n = Config.NumTrainTimesteps;
        double[] timesteps = Config.TimestepSpacing switch
        {
            "linspace" => Enumerable.Range(0, steps).Select(i => (double)(float)((n - 1) * (double)i /
                Math.Max(1, steps - 1))).Reverse().ToArray(),
            "leading" => Enumerable.Range(0, steps).Select(i => Math.Round((double)i * (n / steps)) +
                Config.StepsOffset).Reverse().ToArray(),
            _ => Enumerable.Range(0, steps).Select(i => Math.Round(n - i * ((double)n / steps)) - 1).ToArray(),
        };
        double[] sigmas = Config.InterpolationType == "linear"
            ? timesteps.Select(t => Interpolate(t)).ToArray()
            : LogLinear(steps);
        if (Config.UseKarrasSigmas)
        {
            sigmas = Karras(Config.SigmaMin ?? sigmas[^1], Config.SigmaMax ?? sigmas[0], steps);
            timesteps = sigmas.Select(SigmaToT).ToArray();
        }
        var sig32 = sigmas.Select(s => (float)s).ToArray();
        Timesteps = Config.TimestepType == "continuous" && Config.PredictionType == "v_prediction"
            ? sig32.Select(s => 0.25f * MathF.Log(s)).ToArray()
            : timesteps.Select(t => (float)t).ToArray();
        Sigmas = sig32.Append(0f).ToArray();
    }

    private double Interpolate(double t)
    {
        int lo = Math.Clamp((int)Math.Floor(t), 0, _trainSigmas.Length - 1), hi = Math.Min(lo + 1,
            _trainSigmas.Length - 1);
        double w = t - lo;
        return _trainSigmas[lo] * (1 - w) + _trainSigmas[hi] * w;
    }

    private double[] LogLinear(int steps)
    {
        double a = Math.Log(_trainSigmas[^1]), b = Math.Log(_trainSigmas[0]);
        return Enumerable.Range(0, steps + 1).Select(i => Math.Exp(a + (b - a) * i / steps)).ToArray();
    }

    /// <summary>Karras et al.'s spacing (rho 7) from sigma_max down to sigma_min.</summary>
    private static double[] Karras(double sigmaMin, double sigmaMax, int steps)
    {
        double minInv = Math.Pow(sigmaMin, 1 / 7.0), maxInv = Math.Pow(sigmaMax, 1 / 7.0);
        return Enumerable.Range(0, steps).Select(i =>
            Math.Pow(maxInv + (steps == 1 ? 0 : (double)i / (steps - 1)) * (minInv - maxInv), 7)).ToArray();
    }

    /// <summary>The fractional training timestep of a sigma (interpolated in log sigma).</summary>
    /// <summary>Step <paramref name="index"/>'s noise level as a timestep of the 1,000-step training schedule (0 to
    /// num_train_timesteps - 1): where a rule written for discrete timesteps applies to this scheduler's
    /// steps.</summary>
    public int TrainingTimestep(int index) =>
        (int)Math.Clamp(Math.Round(SigmaToT(Sigmas[index])), 0, _trainSigmas.Length - 1);

    private double SigmaToT(double sigma)
    {
        double logSigma = Math.Log(Math.Max(sigma, 1e-10));
        var logs = _trainSigmas.Select(s => Math.Log(s)).ToArray();
        int low = 0;
        for (int i = 0; i < logs.Length; i++) if (logSigma - logs[i] >= 0) low = i;
        low = Math.Min(low, logs.Length - 2);
        double w = Math.Clamp((logs[low] - logSigma) / (logs[low] - logs[low + 1]), 0, 1);
        return (1 - w) * low + w * (low + 1);
    }

    /// <summary>The model's input at step <paramref name="index"/>: sample / sqrt(sigma^2 + 1).</summary>
    public Tensor ScaleModelInput(Tensor sample, int index)
    {
        float sigma = Sigmas[index];
        return Ops.Div(sample, Tensor.Scalar(MathF.Sqrt(sigma * sigma + 1f)));
    }

    /// <summary>The prediction of the clean sample from the model's output at step <paramref name="index"/>.</summary>
    public Tensor PredictOriginal(Tensor modelOutput, int index, Tensor sample)
    {
        float sigma = Sigmas[index];
        return Config.PredictionType switch
        {
            "epsilon" => sample - modelOutput * sigma,
            "v_prediction" => modelOutput * (-sigma / MathF.Sqrt(sigma * sigma + 1f))
                + Ops.Div(sample, Tensor.Scalar(sigma * sigma + 1f)),
            _ => modelOutput,
        };
    }

    /// <summary>One Euler step from step <paramref name="index"/> to the next sigma.</summary>
    public Tensor Step(Tensor modelOutput, int index, Tensor sample)
    {
        if (index < 0 || index >= Timesteps.Length)
            throw new ArgumentOutOfRangeException(nameof(index),
                $"step {index} is outside the {Timesteps.Length} set.");
        float sigma = Sigmas[index];
        // Divided, not multiplied by 1/sigma: at sigma 700 the step cancels almost all of the sample, and the
        // reference's rounding is what a user comparing outputs sees.
        var derivative = Ops.Div(sample - PredictOriginal(modelOutput, index, sample), Tensor.Scalar(sigma));
        return sample + derivative * (Sigmas[index + 1] - sigma);
    }
}
