namespace Longshot.Tensors.Autograd;

/// <summary>The closed set of recorded ops; each has exactly one backward rule in <see cref="Backward"/>.</summary>
internal enum OpKind
{
    Add, Sub, Mul, Div, AddScalar, MulScalar, PowScalar,
    Exp, Log, Sqrt, Rsqrt, Tanh, Sigmoid, Silu, Gelu, Relu,
    Sum, Max, Softmax, LogSoftmax,
    MatMul, Linear, Conv, ConvTranspose, UpsampleNearest, AvgPool,
    GroupNorm, LayerNorm, Embedding,
    Concat, Narrow, Pad, Permute, Reshape, Expand, Repeat, Contiguous,
    Dropout, Attention, MseLoss, Checkpoint, RoundBf16,
}

/// <summary>One recorded op: its kind, inputs, output and whatever the backward rule needs.</summary>
internal sealed class Node
{
    public readonly OpKind Kind;
    public readonly Tensor[] Inputs;
    public readonly object? Ctx;
    public Tensor Output = null!;

    public Node(OpKind kind, object? ctx, Tensor[] inputs)
    {
        Kind = kind; Ctx = ctx; Inputs = inputs;
    }
}

/// <summary>Records ops into the graph only when gradients are on and an input needs one.</summary>
internal static class Graph
{
    public static Tensor Record(Tensor result, OpKind kind, object? ctx, params Tensor[] inputs)
    {
        if (!GradMode.IsEnabled) return result;
        bool any = false;
        foreach (var t in inputs) any |= t.RequiresGrad;
        if (!any) return result;
        result.RequiresGrad = true;
        result.Node = new Node(kind, ctx, inputs) { Output = result };
        MixedPrecision.Recorded(result);
        return result;
    }

    public static bool Needed(params Tensor[] inputs)
    {
        if (!GradMode.IsEnabled) return false;
        foreach (var t in inputs) if (t.RequiresGrad) return true;
        return false;
    }
}
