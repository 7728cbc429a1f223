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

/// <summary>One recorded op: what its backward rule needs (<see cref="OpCtx"/>, which names its kind), its inputs and
/// its output.</summary>
internal sealed class Node
{
    public readonly OpCtx Op;
    public readonly Tensor[] Inputs;
    public Tensor Output = null!;

    public Node(OpCtx op, Tensor[] inputs)
    {
        Op = op; Inputs = inputs;
    }

    /// <summary>The op's kind.</summary>
    public OpKind Kind => Op.Kind;
}

/// <summary>Records ops into the graph only when gradients are on and an input needs one.</summary>
internal static class Graph
{
    public static Tensor Record(Tensor result, OpCtx op, params Tensor[] inputs)
    {
        if (!GradMode.IsEnabled) return result;
        bool any = false;
        foreach (var t in inputs) any |= t.RequiresGrad;
        if (!any) return result;
        result.RequiresGrad = true;
        result.Node = new Node(op, inputs) { Output = result };
        MixedPrecision.Recorded(result);
        return result;
    }

    /// <summary>Records an op whose rule needs only its inputs and output.</summary>
    public static Tensor Record(Tensor result, OpKind kind, params Tensor[] inputs) =>
        Record(result, new PlainOp(kind), inputs);

    public static bool Needed(params Tensor[] inputs)
    {
        if (!GradMode.IsEnabled) return false;
        foreach (var t in inputs) if (t.RequiresGrad) return true;
        return false;
    }
}
