namespace Longshot.Tensors.Optim;

/// <summary>SGD with momentum and (coupled) weight decay, as torch.optim.SGD.</summary>
public sealed class Sgd : Optimizer
{
    private readonly Dictionary<string, float[]> _velocity = new();

    public float Momentum { get; }
    public float WeightDecay { get; }
    public bool Nesterov { get; }

    public Sgd(IEnumerable<(string Name, Tensor Param)> parameters, float lr, float momentum = 0.9f,
        float weightDecay = 0f, bool nesterov = false)
        : base(parameters, lr)
    {
        Momentum = momentum; WeightDecay = weightDecay; Nesterov = nesterov;
    }

    protected override void Update(string name, Span<float> p, ReadOnlySpan<float> g)
    {
        float[]? buf = null;
        bool first = false;
        if (Momentum != 0
            && !_velocity.TryGetValue(name, out buf)) { _velocity[name] = buf = new float[p.Length]; first = true; }
        for (int i = 0; i < p.Length; i++)
        {
            float d = g[i] + WeightDecay * p[i];
            if (buf != null)
            {
                buf[i] = first ? d : Momentum * buf[i] + d;
                d = Nesterov ? d + Momentum * buf[i] : buf[i];
            }
            p[i] -= LearningRate * d;
        }
    }

    public override Dictionary<string, Tensor> StateTensors() =>
        _velocity.ToDictionary(kv => $"{kv.Key}.momentum_buffer",
            kv => Tensor.FromArray((float[])kv.Value.Clone(), kv.Value.Length));

    public override void LoadState(IReadOnlyDictionary<string, Tensor> state, long stepCount)
    {
        _velocity.Clear();
        foreach (var (name, p) in Params)
            if (state.TryGetValue($"{name}.momentum_buffer", out var b))
            {
                if (b.Numel != p.Numel)
                    throw new ArgumentException($"SGD state for '{name}' has {b.Numel} elements but the parameter " +
                    $"has {p.Numel}.");
                _velocity[name] = b.ToArray();
            }
        StepCount = stepCount;
    }
}
