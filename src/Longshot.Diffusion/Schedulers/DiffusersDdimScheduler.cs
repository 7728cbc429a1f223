using Longshot.Tensors;

namespace Longshot.Diffusion.Schedulers;

/// <summary>
/// diffusers' DDIMScheduler with eta 0 (what its text-to-video pipeline runs): timesteps spaced "leading" (plus
/// steps_offset), "linspace" or "trailing"; each step predicts the clean sample, clips it when clip_sample says so,
/// and moves to the previous timestep along the predicted noise (the last step to alpha_bar 1 with set_alpha_to_one,
/// else to the first training timestep's).
/// </summary>
public sealed class DiffusersDdimScheduler : IStepScheduler
{
    private readonly DiffusersSchedulerConfig _config;
    private readonly float[] _alphaBar;
    private int[] _timesteps = Array.Empty<int>();

    public DiffusersDdimScheduler(DiffusersSchedulerConfig config)
    {
        config.Validate();
        _config = config;
        _alphaBar = TrainingBetas.AlphasCumprod(config.NumTrainTimesteps, config.BetaStart, config.BetaEnd,
            config.BetaSchedule, config.TrainedBetas);
    }

    /// <inheritdoc/>
    public IReadOnlyList<int> Timesteps => _timesteps;

    /// <inheritdoc/>
    public void SetTimesteps(int steps)
    {
        int n = _config.NumTrainTimesteps;
        if (steps < 1 || steps > n) throw new SettingException("Steps", $"must be between 1 and {n}.");
        _timesteps = _config.Spacing switch
        {
            "linspace" => NumpyLinspace(0, n - 1, steps).Select(v => (int)Math.Round(v, MidpointRounding.ToEven))
                .Reverse().ToArray(),
            "leading" => Enumerable.Range(0, steps).Select(i => i * (n / steps) + _config.StepsOffset).Reverse()
                .ToArray(),
            _ => Trailing(n, steps),
        };
    }

    /// <summary>diffusers' "trailing" spacing: from the last training timestep down in steps of n / steps.</summary>
    internal static int[] Trailing(int n, int steps)
    {
        double ratio = (double)n / steps;
        var list = new List<int>();
        for (double t = n; t > 0; t -= ratio) list.Add((int)Math.Round(t, MidpointRounding.ToEven) - 1);
        return list.ToArray();
    }

    /// <inheritdoc/>
    public Tensor Step(Tensor modelOutput, int index, Tensor sample, Func<Tensor>? noise = null)
    {
        int t = _timesteps[index], prev = t - _config.NumTrainTimesteps / _timesteps.Length;
        float a = _alphaBar[t];
        float aPrev = prev >= 0 ? _alphaBar[prev] : _config.SetAlphaToOne ? 1f : _alphaBar[0];
        float b = 1f - a;
        Tensor x0, eps;
        switch (_config.PredictionType)
        {
            case "epsilon":
                x0 = (sample - modelOutput * MathF.Pow(b, 0.5f)) * (1f / MathF.Pow(a, 0.5f));
                eps = modelOutput;
                break;
            case "sample":
                x0 = modelOutput;
                eps = (sample - x0 * MathF.Pow(a, 0.5f)) * (1f / MathF.Pow(b, 0.5f));
                break;
            default: // v_prediction
                x0 = sample * MathF.Pow(a, 0.5f) - modelOutput * MathF.Pow(b, 0.5f);
                eps = modelOutput * MathF.Pow(a, 0.5f) + sample * MathF.Pow(b, 0.5f);
                break;
        }
        if (_config.ClipSample) x0 = Clamp(x0, _config.ClipSampleRange);
        return x0 * MathF.Pow(aPrev, 0.5f) + eps * MathF.Pow(1f - aPrev, 0.5f);
    }

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, Tensor> SaveState() => new Dictionary<string, Tensor>();

    /// <inheritdoc/>
    public void LoadState(IReadOnlyDictionary<string, Tensor> state) { }

    private static Tensor Clamp(Tensor x, float range)
    {
        var v = x.ToArray();
        for (int i = 0; i < v.Length; i++) v[i] = Math.Clamp(v[i], -range, range);
        return Tensor.FromArray(v, x.Shape).ToDevice(x.Device);
    }

    /// <summary>numpy's linspace: start + i * step, the last value exactly stop.</summary>
    internal static double[] NumpyLinspace(double start, double stop, int count)
    {
        if (count == 1) return new[] { start };
        double step = (stop - start) / (count - 1);
        var v = new double[count];
        for (int i = 0; i < count; i++) v[i] = start + i * step;
        v[^1] = stop;
        return v;
    }
}
