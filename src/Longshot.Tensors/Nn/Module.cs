namespace Longshot.Tensors.Nn;

/// <summary>
/// Base of every layer: holds the train/eval flag and the child modules it propagates to.
/// Parameters live in the <see cref="ParameterStore"/> under the names the <see cref="VarBuilder"/> gave them.
/// </summary>
public abstract class Module
{
    private readonly List<Module> _children = new();

    /// <summary>True in training mode (dropout active), false in evaluation mode.</summary>
    public bool Training { get; private set; } = true;

    /// <summary>Registers a child so that train/eval reaches it; returns the child.</summary>
    protected T Child<T>(T module) where T : Module
    {
        _children.Add(module);
        return module;
    }

    /// <summary>Sets training (true) or evaluation (false) mode for this module and all below it.</summary>
    public void Train(bool on = true)
    {
        Training = on;
        foreach (var c in _children) c.Train(on);
    }

    /// <summary>Evaluation mode.</summary>
    public void Eval() => Train(false);
}

/// <summary>A module with one input and one output.</summary>
public abstract class Layer : Module
{
    public abstract Tensor Forward(Tensor x);
}

/// <summary>Layers applied in order, named 0, 1, 2, ... as in torch.nn.Sequential.</summary>
public sealed class Sequential : Layer
{
    private readonly List<Layer> _layers = new();

    /// <summary>Builds layers with builders scoped to their index.</summary>
    public Sequential(VarBuilder vb, params Func<VarBuilder, Layer>[] makers)
    {
        for (int i = 0; i < makers.Length; i++) _layers.Add(Child(makers[i](vb.Pp(i))));
    }

    public IReadOnlyList<Layer> Layers => _layers;

    public override Tensor Forward(Tensor x)
    {
        foreach (var l in _layers) x = l.Forward(x);
        return x;
    }
}

/// <summary>An elementwise function as a layer (SiLU, GELU, ...); has no weights.</summary>
public sealed class Activation(Func<Tensor, Tensor> f) : Layer
{
    public override Tensor Forward(Tensor x) => f(x);
}

/// <summary>Dropout that is active only in training mode.</summary>
public sealed class Dropout(float p, Rng rng) : Layer
{
    public override Tensor Forward(Tensor x) => Ops.Dropout(x, p, rng, Training);
}
