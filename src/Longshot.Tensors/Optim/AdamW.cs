namespace Longshot.Tensors.Optim;

/// <summary>Adam with decoupled weight decay (Loshchilov &amp; Hutter), as torch.optim.AdamW.</summary>
public sealed class AdamW : Optimizer
{
    private readonly Dictionary<string, (float[] M, float[] V)> _state = new();
    /// <summary>Moments of parameters on a device, kept there.</summary>
    private readonly Dictionary<string, (Tensor M, Tensor V)> _deviceState = new();

    public float Beta1 { get; }
    public float Beta2 { get; }
    public float Eps { get; }
    public float WeightDecay { get; }

    public AdamW(IEnumerable<(string Name, Tensor Param)> parameters, float lr = 1e-3f, float beta1 = 0.9f,
        float beta2 = 0.999f, float eps = 1e-8f, float weightDecay = 0.01f)
        : base(parameters, lr)
    {
        Beta1 = beta1; Beta2 = beta2; Eps = eps; WeightDecay = weightDecay;
    }

    protected override void Update(string name, Span<float> p, ReadOnlySpan<float> g)
    {
        if (!_state.TryGetValue(name, out var s)) _state[name] = s = (new float[p.Length], new float[p.Length]);
        var c = Constants();
        float b1 = Beta1, b2 = Beta2, stepSize = c.StepSize, sqrtBc2 = c.SqrtBiasCorrection2, decay = c.Decay;
        var m = s.M; var v = s.V;
        for (int i = 0; i < p.Length; i++)
        {
            float gi = g[i];
            m[i] = b1 * m[i] + (1f - b1) * gi;
            v[i] = b2 * v[i] + (1f - b2) * gi * gi;
            p[i] = p[i] * decay - stepSize * m[i] / (MathF.Sqrt(v[i]) / sqrtBc2 + Eps);
        }
    }

    /// <summary>This step's constants (the bias corrections depend on the step count).</summary>
    private Devices.AdamWConstants Constants()
    {
        float lr = LearningRate;
        float bc1 = 1f - MathF.Pow(Beta1, StepCount), bc2 = 1f - MathF.Pow(Beta2, StepCount);
        return new Devices.AdamWConstants(Beta1, Beta2, Eps, lr / bc1, MathF.Sqrt(bc2), 1f - lr * WeightDecay);
    }

    protected override void UpdateOnDevice(string name, Tensor p, Tensor g)
    {
        if (!_deviceState.TryGetValue(name, out var s))
        {
            // Moments restored from a checkpoint (host arrays) move to the device on the parameter's first step.
            var (m, v) = _state.Remove(name, out var host) ? host : (new float[p.Numel], new float[p.Numel]);
            _deviceState[name] = s = (Tensor.FromArray(m, p.Numel).ToDevice(p.Device),
                Tensor.FromArray(v, p.Numel).ToDevice(p.Device));
        }
        Devices.DeviceOps.AdamW(p, g, s.M, s.V, Constants());
    }

    public override Dictionary<string, Tensor> StateTensors()
    {
        var d = new Dictionary<string, Tensor>();
        foreach (var (name, (m, v)) in _deviceState)
        {
            d[$"{name}.exp_avg"] = m.ToDevice(Devices.Device.Cpu);
            d[$"{name}.exp_avg_sq"] = v.ToDevice(Devices.Device.Cpu);
        }
        // The host moments themselves, not copies: a checkpoint of a 0.8 B-parameter run would otherwise hold a
        // second 6.4 GB of them while it is written.
        foreach (var (name, (m, v)) in _state)
        {
            d[$"{name}.exp_avg"] = Tensor.FromArray(m, m.Length);
            d[$"{name}.exp_avg_sq"] = Tensor.FromArray(v, v.Length);
        }
        return d;
    }

    public override void LoadState(IReadOnlyDictionary<string, Tensor> state, long stepCount)
    {
        _state.Clear();
        _deviceState.Clear();
        foreach (var (name, p) in Params)
        {
            if (!state.TryGetValue($"{name}.exp_avg", out var m)
                || !state.TryGetValue($"{name}.exp_avg_sq", out var v)) continue;
            if (m.Numel != p.Numel || v.Numel != p.Numel)
                throw new ArgumentException($"AdamW state for '{name}' has {m.Numel} elements but the parameter has " +
                    $"{p.Numel}.");
            _state[name] = (m.ToArray(), v.ToArray());
        }
        StepCount = stepCount;
    }
}
