namespace Longshot.Tensors.Autograd;

/// <summary>Gradients from one backward pass, keyed by tensor identity. Tensors are never mutated.</summary>
public sealed class GradStore
{
    private readonly Dictionary<Tensor, Tensor> _grads = new(ReferenceEqualityComparer.Instance);

    /// <summary>The gradient of <paramref name="t"/>, or null when it received none.</summary>
    public Tensor? Get(Tensor t) => _grads.GetValueOrDefault(t);

    /// <summary>The gradient of <paramref name="t"/>; throws when it received none.</summary>
    public Tensor this[Tensor t] => Get(t) ?? throw new KeyNotFoundException($"No gradient for tensor {t}.");

    /// <summary>Every tensor that received a gradient.</summary>
    public IEnumerable<Tensor> Keys => _grads.Keys;

    /// <summary>A store holding exactly these gradients (gradients exchanged between the ranks of a job).</summary>
    public static GradStore Of(IEnumerable<(Tensor Param, Tensor Grad)> grads)
    {
        var store = new GradStore();
        foreach (var (p, g) in grads) store._grads[p] = g;
        return store;
    }

    /// <summary>Number of gradients held.</summary>
    public int Count => _grads.Count;

    internal void Accumulate(Tensor t, Tensor g)
    {
        if (!Tensor.SameShape(t, g)) g = Ops.SumTo(g, t.Shape);
        if (_grads.TryGetValue(t, out var prev))
        {
            // The first stored gradient may alias another tensor's storage: add out of place.
            _grads[t] = Ops.Add(prev, g);
        }
        else _grads[t] = g;
    }

    internal Tensor? Take(Tensor t)
    {
        if (_grads.Remove(t, out var g)) return g;
        return null;
    }

    internal void Set(Tensor t, Tensor g) => _grads[t] = g;

    /// <summary>Merges another store's gradients into this one.</summary>
    internal void Merge(GradStore other)
    {
        foreach (var (t, g) in other._grads) Accumulate(t, g);
    }
}
