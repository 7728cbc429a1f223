using Longshot.Tensors;

namespace Longshot.Diffusion.Schedulers;

/// <summary>
/// diffusers' DPMSolverMultistepScheduler (v0.25) for the data-prediction solvers: DPM-Solver++ (2M, midpoint) and
/// its stochastic form SDE-DPM-Solver++, on sigmas interpolated at "linspace", "leading" or "trailing" timesteps or
/// spaced as Karras et al. do (rho 7; the timesteps then follow the sigmas, and the last step repeats the smallest
/// sigma, a step that changes nothing, as diffusers has it). First order at the first step and, below 15 steps, at the
/// last (lower_order_final). Scalars are float32 as the reference computes them.
/// </summary>
public sealed class DiffusersDpmSolverScheduler : IStepScheduler
{
    private readonly DiffusersSchedulerConfig _config;
    private readonly float[] _trainSigmas;
    private int[] _timesteps = Array.Empty<int>();
    private float[] _sigmas = Array.Empty<float>();
    private Tensor? _previousX0;
    private int _lowerOrderNums;

    public DiffusersDpmSolverScheduler(DiffusersSchedulerConfig config)
    {
        config.Validate();
        _config = config;
        _trainSigmas = TrainingBetas.AlphasCumprod(config.NumTrainTimesteps, config.BetaStart, config.BetaEnd,
            config.BetaSchedule, config.TrainedBetas).Select(a => MathF.Sqrt((1f - a) / a)).ToArray();
    }

    /// <inheritdoc/>
    public IReadOnlyList<int> Timesteps => _timesteps;

    /// <summary>The sigmas of the schedule, one more than the steps.</summary>
    public IReadOnlyList<float> Sigmas => _sigmas;

    /// <inheritdoc/>
    public void SetTimesteps(int steps)
    {
        int n = _config.NumTrainTimesteps;
        if (steps < 1 || steps > n) throw new SettingException("Steps", $"must be between 1 and {n}.");
        _previousX0 = null;
        _lowerOrderNums = 0;
        if (_config.UseKarrasSigmas)
        {
            var sigmas = Karras(_trainSigmas[0], _trainSigmas[^1], steps);
            var logSigmas = _trainSigmas.Select(s => (double)MathF.Log(s)).ToArray();
            _timesteps = sigmas.Select(s => (int)Math.Round(SigmaToT(s, logSigmas), MidpointRounding.ToEven))
                .ToArray();
            _sigmas = sigmas.Append(sigmas[^1]).Select(s => (float)s).ToArray();
            return;
        }
        _timesteps = _config.Spacing switch
        {
            "linspace" => DiffusersDdimScheduler.NumpyLinspace(0, n - 1, steps + 1)
                .Select(v => (long)Math.Round(v, MidpointRounding.ToEven)).Reverse().Take(steps)
                .Select(v => (int)v).ToArray(),
            "leading" => Enumerable.Range(0, steps + 1).Select(i => i * (n / (steps + 1))).Reverse().Take(steps)
                .Select(t => t + _config.StepsOffset).ToArray(),
            _ => DiffusersDdimScheduler.Trailing(n, steps),
        };
        // The schedule ends at the first training timestep's sigma.
        _sigmas = _timesteps.Select(t => _trainSigmas[t]).Append(_trainSigmas[0]).ToArray();
    }

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, Tensor> SaveState()
    {
        var state = new Dictionary<string, Tensor>
        {
            ["dpm_lower_order_nums"] = Tensor.FromArray(new float[] { _lowerOrderNums }, 1),
        };
        if (_previousX0 != null) state["dpm_previous_x0"] = _previousX0;
        return state;
    }

    /// <inheritdoc/>
    public void LoadState(IReadOnlyDictionary<string, Tensor> state)
    {
        _lowerOrderNums = state.TryGetValue("dpm_lower_order_nums", out var n) ? (int)n.ToArray()[0] : 0;
        _previousX0 = state.GetValueOrDefault("dpm_previous_x0");
    }

    /// <summary>Karras et al.'s sigmas (rho 7) from sigma_max down to sigma_min, in float64 as numpy computes
    /// them.</summary>
    private static double[] Karras(float sigmaMin, float sigmaMax, int steps)
    {
        // The training sigmas rise with t: index 0 is the smallest.
        (sigmaMin, sigmaMax) = (Math.Min(sigmaMin, sigmaMax), Math.Max(sigmaMin, sigmaMax));
        const double rho = 7.0;
        double minInv = Math.Pow(sigmaMin, 1 / rho), maxInv = Math.Pow(sigmaMax, 1 / rho);
        var ramp = DiffusersDdimScheduler.NumpyLinspace(0, 1, steps);
        return ramp.Select(r => Math.Pow(maxInv + r * (minInv - maxInv), rho)).ToArray();
    }

    /// <summary>The fractional training timestep of a sigma, interpolated in log sigma.</summary>
    private static double SigmaToT(double sigma, double[] logSigmas)
    {
        double logSigma = Math.Log(Math.Max(sigma, 1e-10));
        int low = 0;
        for (int i = 0; i < logSigmas.Length; i++) if (logSigma - logSigmas[i] >= 0) low = i;
        low = Math.Min(low, logSigmas.Length - 2);
        double w = Math.Clamp((logSigmas[low] - logSigma) / (logSigmas[low] - logSigmas[low + 1]), 0, 1);
        return (1 - w) * low + w * (low + 1);
    }

    private static (float Alpha, float Sigma) AlphaSigma(float sigma)
    {
        float alpha = 1f / MathF.Pow(sigma * sigma + 1f, 0.5f);
        return (alpha, sigma * alpha);
    }

    /// <inheritdoc/>
    public Tensor Step(Tensor modelOutput, int index, Tensor sample, Func<Tensor>? noise = null)
    {
        bool sde = _config.AlgorithmType == "sde-dpmsolver++";
        if (sde && noise == null) throw new ArgumentException("sde-dpmsolver++ needs noise for every step.");
        int count = _timesteps.Length;
        bool lowerOrderFinal = index == count - 1 && (_config.EulerAtFinal || (_config.LowerOrderFinal && count < 15));

        // 1. The model's prediction of the clean sample.
        var (alphaS, sigmaS) = AlphaSigma(_sigmas[index]);
        var x0 = _config.PredictionType switch
        {
            "epsilon" => (sample - modelOutput * sigmaS) * (1f / alphaS),
            "sample" => modelOutput,
            _ => sample * alphaS - modelOutput * sigmaS,
        };

        // 2. First order at the start (and the end), else second order with the previous prediction.
        var (alphaT, sigmaT) = AlphaSigma(_sigmas[index + 1]);
        float lambdaT = MathF.Log(alphaT) - MathF.Log(sigmaT), lambdaS = MathF.Log(alphaS) - MathF.Log(sigmaS);
        float h = lambdaT - lambdaS;
        var d = x0;
        if (!(_config.SolverOrder == 1 || _lowerOrderNums < 1 || lowerOrderFinal))
        {
            var (alphaS1, sigmaS1) = AlphaSigma(_sigmas[index - 1]);
            float lambdaS1 = MathF.Log(alphaS1) - MathF.Log(sigmaS1);
            float r0 = (lambdaS - lambdaS1) / h;
            var d1 = (x0 - _previousX0!) * (1f / r0);
            d = x0 + d1 * 0.5f;
        }
        Tensor next;
        if (!sde)
            next = sample * (sigmaT / sigmaS) - d * (alphaT * (MathF.Exp(-h) - 1f));
        else
            next = sample * (sigmaT / sigmaS * MathF.Exp(-h)) + d * (alphaT * (1f - MathF.Exp(-2f * h)))
                + noise!() * (sigmaT * MathF.Sqrt(1f - MathF.Exp(-2f * h)));
        _previousX0 = x0;
        if (_lowerOrderNums < _config.SolverOrder) _lowerOrderNums++;
        return next;
    }
}
