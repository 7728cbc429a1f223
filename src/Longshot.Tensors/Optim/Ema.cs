namespace Longshot.Tensors.Optim;

/// <summary>Exponential moving average of weights: ema = decay * ema + (1 - decay) * param after each step.</summary>
public sealed class Ema
{
    private readonly List<(string Name, Tensor Param, float[] Shadow)> _items;
    /// <summary>Averages of parameters on a device, kept there (the host shadow is then stale until read).</summary>
    private readonly Dictionary<string, Tensor> _onDevice = new();

    public float Decay { get; }

    public Ema(IEnumerable<(string Name, Tensor Param)> parameters, float decay = 0.999f)
    {
        if (decay is < 0 or > 1) throw new ArgumentException($"Ema: decay {decay} must be in [0, 1].");
        Decay = decay;
        _items = parameters.Select(p => (p.Name, p.Param, p.Param.ToArray())).ToList();
    }

    /// <summary>Moves the average towards the current weights with the fixed decay.</summary>
    public void Update() => Apply(Decay);

    /// <summary>
    /// Moves the average towards the current weights after optimizer step <paramref name="step"/> (0-based) with a
    /// warm-up: decay min(Decay, (1 + step) / (10 + step)), so a short run's average is not mostly its random
    /// initial weights (0.999^800 = 45% of them with the fixed decay). Depends only on the step, so resuming is exact.
    /// </summary>
    public void Update(long step) => Apply(Math.Min(Decay, (1f + step) / (10f + step)));

    private void Apply(float decay)
    {
        using var _ = Tensor.NoGrad();
        foreach (var (name, p, s) in _items)
        {
            if (p.Buffer.Memory != null)
            {
                var shadow = _onDevice.TryGetValue(name, out var t) ? t
                    : Tensor.FromArray(s, p.Shape).ToDevice(p.Device);
                _onDevice[name] = Ops.Add(Ops.MulScalar(shadow, decay), Ops.MulScalar(p.Detach(), 1f - decay));
                continue;
            }
            var v = p.Contiguous().Span;
            for (int i = 0; i < s.Length; i++) s[i] = decay * s[i] + (1f - decay) * v[i];
        }
    }

    /// <summary>The averaged weights by parameter name.</summary>
    public Dictionary<string, Tensor> Weights() =>
        _items.ToDictionary(i => i.Name, i => _onDevice.TryGetValue(i.Name, out var t) ? t.ToDevice(Devices.Device.Cpu)
            : Tensor.FromArray((float[])i.Shadow.Clone(), i.Param.Shape));

    /// <summary>Restores averaged weights (for resuming).</summary>
    public void Load(IReadOnlyDictionary<string, Tensor> weights)
    {
        _onDevice.Clear();
        foreach (var (name, p, s) in _items)
            if (weights.TryGetValue(name, out var w))
            {
                if (w.Numel != s.Length)
                    throw new ArgumentException($"Ema: '{name}' has {w.Numel} elements, expected {s.Length}.");
                w.ToArray().CopyTo(s, 0);
            }
    }
}
