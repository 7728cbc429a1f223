using Longshot.Tensors;
using Longshot.Tensors.Nn;

namespace Longshot.Diffusion.Clip;

/// <summary>Hugging Face's CLIPAttention: q_proj, k_proj, v_proj, out_proj (all with bias), scaled by
/// 1/sqrt(head width), with an optional additive mask (the text tower's causal one).</summary>
public sealed class ClipSelfAttention : Module
{
    private readonly Linear _q, _k, _v, _out;
    private readonly int _heads;

    public ClipSelfAttention(VarBuilder vb, int dim, int heads)
    {
        if (dim % heads != 0)
            throw new ArgumentException($"CLIP attention '{vb.Prefix}': width {dim} does not split into {heads} " +
                "heads.");
        _q = Child(new Linear(vb.Pp("q_proj"), dim, dim));
        _k = Child(new Linear(vb.Pp("k_proj"), dim, dim));
        _v = Child(new Linear(vb.Pp("v_proj"), dim, dim));
        _out = Child(new Linear(vb.Pp("out_proj"), dim, dim));
        _heads = heads;
    }

    /// <summary>x [B, L, C]; <paramref name="bias"/> broadcast to [B, H, L, L] (e.g. -inf above the
    /// diagonal).</summary>
    public Tensor Forward(Tensor x, Tensor? bias = null)
    {
        var q = Split(_q.Forward(x));
        var k = Split(_k.Forward(x));
        var v = Split(_v.Forward(x));
        var o = Ops.ScaledDotProductAttention(q, k, v, bias: bias);
        int b = o.Shape[0], l = o.Shape[2];
        return _out.Forward(o.Permute(0, 2, 1, 3).Reshape(b, l, -1));
    }

    private Tensor Split(Tensor t) =>
        t.Reshape(t.Shape[0], t.Shape[1], _heads, t.Shape[2] / _heads).Permute(0, 2, 1, 3);
}

/// <summary>Hugging Face's CLIPEncoderLayer: pre-norm self-attention and MLP (fc1, activation, fc2), each
/// residual.</summary>
public sealed class ClipEncoderLayer : Module
{
    private readonly LayerNorm _norm1, _norm2;
    private readonly ClipSelfAttention _attention;
    private readonly Linear _fc1, _fc2;
    private readonly Func<Tensor, Tensor> _activation;

    public ClipEncoderLayer(VarBuilder vb, int dim, int heads, int intermediate, float eps, string activation)
    {
        _attention = Child(new ClipSelfAttention(vb.Pp("self_attn"), dim, heads));
        _norm1 = Child(new LayerNorm(vb.Pp("layer_norm1"), dim, eps));
        _fc1 = Child(new Linear(vb.Pp("mlp").Pp("fc1"), dim, intermediate));
        _fc2 = Child(new Linear(vb.Pp("mlp").Pp("fc2"), intermediate, dim));
        _norm2 = Child(new LayerNorm(vb.Pp("layer_norm2"), dim, eps));
        _activation = Activation(activation);
    }

    /// <summary>The activations CLIP configs name ("hidden_act").</summary>
    public static readonly IReadOnlyList<string> Activations = new[] { "gelu", "quick_gelu" };

    private static Func<Tensor, Tensor> Activation(string name) => name switch
    {
        "gelu" => Ops.Gelu,
        "quick_gelu" => x => x * Ops.Sigmoid(x * 1.702f),
        _ => throw new ArgumentException($"hidden_act '{name}' is not one of {string.Join(", ", Activations)}."),
    };

    public Tensor Forward(Tensor x, Tensor? bias = null)
    {
        x = x + _attention.Forward(_norm1.Forward(x), bias);
        return x + _fc2.Forward(_activation(_fc1.Forward(_norm2.Forward(x))));
    }
}
