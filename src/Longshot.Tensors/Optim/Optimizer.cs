using Longshot.Tensors.Autograd;

namespace Longshot.Tensors.Optim;

/// <summary>
/// Base of the optimizers: updates the trainable parameters in place from a <see cref="GradStore"/>.
/// Per-parameter state is kept by parameter name so it can be saved in a training checkpoint.
/// </summary>
public abstract class Optimizer
{
    protected readonly IReadOnlyList<(string Name, Tensor Param)> Params;

    /// <summary>The learning rate used by the next step (a schedule sets it before each step).</summary>
    public float LearningRate { get; set; }

    /// <summary>Steps taken so far.</summary>
    public long StepCount { get; protected set; }

    protected Optimizer(IEnumerable<(string Name, Tensor Param)> parameters, float lr)
    {
        Params = parameters.ToList();
        if (Params.Count == 0)
            throw new ArgumentException("Optimizer: no trainable parameters (are they all frozen?).");
        LearningRate = lr;
    }

    /// <summary>Applies one update. Parameters without a gradient are left as they are.</summary>
    public void Step(GradStore grads)
    {
        StepCount++;
        using var _ = Tensor.NoGrad();
        foreach (var (name, p) in Params)
        {
            var g = grads.Get(p);
            if (g == null) continue;
            if (p.Buffer.Memory != null)
            {
                UpdateOnDevice(name, p, g);
                continue;
            }
            var gc = g.Contiguous();
            Update(name, p.Span, gc.Span);
        }
    }

    /// <summary>Updates one parameter given its gradient (same length).</summary>
    protected abstract void Update(string name, Span<float> param, ReadOnlySpan<float> grad);

    /// <summary>Updates a parameter that lives on a device (its gradient there too).</summary>
    protected virtual void UpdateOnDevice(string name, Tensor param, Tensor grad) =>
        throw new LongshotException($"{GetType().Name}: parameter '{name}' is on {param.Device}; only AdamW updates " +
            "parameters on a device.");

    /// <summary>The optimizer's tensors by key (for checkpoints). Host state is returned as views of the live
    /// moments: read them before the next step.</summary>
    public abstract Dictionary<string, Tensor> StateTensors();

    /// <summary>Restores tensors written by <see cref="StateTensors"/> and the step count.</summary>
    public abstract void LoadState(IReadOnlyDictionary<string, Tensor> state, long stepCount);
}
